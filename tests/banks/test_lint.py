"""The bank as the bureau's reviewer reads it: `banks lint`, the 细目表, the bank's review page."""

import csv
import io
import json

import pytest

from certify.banks import lint
from certify.banks.blueprints import load_blueprint_json
from certify.banks.importer import import_bank
from certify.banks.lint import BLOCKING, lint_bank
from certify.banks.models import ExamPoint, Question
from certify.banks.points import load_exam_points
from certify.catalog.models import CertificateType
from certify.demo.data import BANKS_DIR, ELECTROPLATER_AREAS, WAREHOUSE_KEEPER_AREAS
from certify.extensions import db
from tests.conftest import in_fresh_context
from tests.factories import make_trade
from tests.pages import visible_text

HEADER = [
    "题型",
    "题干",
    "选项A",
    "选项B",
    "选项C",
    "选项D",
    "答案",
    "知识点",
    "鉴定点代码",
    "难度",
]
AREA = "入库作业/验收"
GOODS = [
    "钢材",
    "水泥",
    "化肥",
    "电缆",
    "轮胎",
    "纸箱",
    "食用油",
    "药品",
    "玻璃",
    "油漆",
    "木材",
    "棉纱",
    "家电",
    "塑料粒",
    "电池",
    "五金件",
    "服装",
    "粮食",
    "机油",
    "瓷砖",
]


def _csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def _single(n: int, *, key_longest: bool, point: str = "01-01-01") -> list:
    """n single-choice questions; the key (rotating A–D) is or is not the longest option."""
    rows = []
    for i in range(n):
        key = "ABCD"[i % 4]
        options = [f"第{i}题的错误做法{j}" for j in range(4)]
        index = "ABCD".index(key)
        options[index] = (
            f"第{i}题的正确做法，核对数量和单据" if key_longest else f"第{i}题正确{index}"
        )
        stem = f"{GOODS[i % len(GOODS)]}到货{i}次时，保管员应当（  ）。"
        rows.append(["单选题", stem, *options, key, AREA, point, "2"])
    return rows


def _true_false(n: int, *, absolute_false: int, point: str = "01-01-02") -> list:
    rows = []
    for i in range(n):
        if i < absolute_false:
            stem = f"{GOODS[i % len(GOODS)]}到货{i}次，一定要先签字再点数。"
            rows.append(["判断题", stem, "", "", "", "", "错误", AREA, point, "1"])
        else:
            stem = f"{GOODS[-1 - i % len(GOODS)]}入库前{i}天，应先核对送货单。"
            rows.append(["判断题", stem, "", "", "", "", "正确", AREA, point, "1"])
    return rows


@pytest.fixture
def trade(app):
    return make_trade("lint-trade")


def _bank(trade, rows):
    report = import_bank(trade, "bank.csv", _csv(rows))
    assert report.saved, [str(p) for p in report.problems]
    db.session.commit()


def _checks(report, severity=None):
    return {f.check for f in report.findings if severity is None or f.severity == severity}


def test_keys_that_are_the_longest_option_block_the_bank(trade):
    _bank(trade, _single(20, key_longest=True))
    report = lint_bank(trade)
    assert report.figures["longest_key_share"] == 1.0
    assert "longest_key" in _checks(report, BLOCKING) and not report.passed
    named = [f for f in report.findings if f.check == "longest_key" and f.question_id]
    assert len(named) == 20  # each strong tell names its question, with what to do
    assert named[0].where and named[0].message


def test_a_bank_without_the_tells_passes(trade):
    _bank(trade, _single(20, key_longest=False) + _true_false(10, absolute_false=3))
    report = lint_bank(trade)
    assert report.figures["longest_key_share"] == 0.0
    assert report.figures["key_positions"] == {"A": 0.25, "B": 0.25, "C": 0.25, "D": 0.25}
    assert report.figures["absolute_true_false"] == {"true": 0, "false": 3}  # under 5: no verdict
    assert report.passed, [f.message for f in report.blocking]


def test_absolute_words_in_true_false_that_are_nearly_always_false_block(trade):
    _bank(trade, _true_false(12, absolute_false=8) + _single(4, key_longest=False))
    report = lint_bank(trade)
    assert report.figures["absolute_true_false"] == {"true": 0, "false": 8}
    assert "absolute_words" in _checks(report, BLOCKING)


def test_all_of_the_above_near_duplicates_and_missing_points_are_named(trade):
    rows = _single(4, key_longest=False)
    rows.append(
        ["单选题", "入库验收要核对（  ）。", "数量", "质量", "单据", "以上都对", "D", AREA, "", "2"]
    )
    rows.append(
        ["单选题", "入库验收时要核对（  ）。", "数量", "质量", "单据", "包装", "A", AREA, "", "2"]
    )
    _bank(trade, rows)
    report = lint_bank(trade)
    by_check = {}
    for finding in report.findings:
        by_check.setdefault(finding.check, []).append(finding)
    assert by_check["all_of_the_above"][0].question_id == _id(trade, "入库验收要核对")
    assert len(by_check["near_duplicate"]) == 1
    assert len(by_check["no_point"]) == 2 and report.figures["without_point"] == 2


def _id(trade, stem_start: str) -> int:
    for question in db.session.scalars(db.select(Question).where(Question.trade_id == trade.id)):
        if question.current.stem.startswith(stem_start):
            return question.id
    raise AssertionError(stem_start)


def test_a_blueprint_cell_under_twice_the_paper_blocks(trade):
    _bank(trade, _single(12, key_longest=False))
    load_blueprint_json(
        json.dumps(
            {
                "trade": trade.code,
                "level": 5,
                "name": "小试卷",
                "duration_minutes": 30,
                "pass_mark": 60,
                "sections": [{"type": "single", "count": 10, "points": "10"}],
                "quotas": [{"area": "入库作业", "weight": 100}],
            }
        ),
        "bp.json",
    )
    db.session.commit()
    report = lint_bank(trade)
    pools = [f for f in report.findings if f.check == "pool" and f.severity == BLOCKING]
    assert pools and "12" in pools[0].message and "8" in pools[0].message  # 8 more to 2×
    assert report.figures["cells_under_2x"] >= 1


def test_answers_show_mislabelled_difficulty_and_distractors_nobody_picks(trade, monkeypatch):
    _bank(trade, _single(4, key_longest=False))
    first = _id(trade, "钢材到货0次")  # key A, labelled difficulty 2

    def everyone_picks_b(_trade):
        for _ in range(60):
            yield first, ["B"], False

    monkeypatch.setattr(lint, "_answer_sources", [everyone_picks_b])
    report = lint_bank(trade)
    labels = [f for f in report.findings if f.check == "difficulty_label"]
    assert [f.question_id for f in labels] == [first]  # nobody right: difficulty 5, not 2
    unpicked = [f for f in report.findings if f.check == "unpicked_distractor"]
    assert [f.question_id for f in unpicked] == [first, first]  # C and D; B was picked


POINTS = (
    "一级,二级,点代码,点名称,重要程度\n"
    "入库作业,验收,01-01-01,验收的内容,X\n"
    "入库作业,验收,01-01-02,验收的顺序,Y\n"
)


def test_the_points_table_loads_and_the_lint_counts_questions_per_point(trade):
    report = load_exam_points(trade, "points.csv", POINTS.encode())
    assert report.saved and report.points == 2
    _bank(trade, _single(4, key_longest=False, point="01-01-09"))
    result = lint_bank(trade)
    assert result.figures["unknown_point"] == 4 and result.figures["points_under_2"] == 2
    assert "01-01-09" in next(f.message for f in result.findings if f.check == "unknown_point")


def test_a_question_on_a_point_of_another_area_is_named(trade):
    from certify.catalog.services import ensure_area_path

    ensure_area_path(trade, "入库作业/入库准备")
    elsewhere = POINTS + "入库作业,入库准备,01-02-01,货位的准备,X\n"
    assert load_exam_points(trade, "points.csv", elsewhere.encode()).saved
    _bank(trade, _single(3, key_longest=False, point="01-02-01"))
    result = lint_bank(trade)
    assert result.figures["point_elsewhere"] == 3
    message = next(f.message for f in result.findings if f.check == "point_elsewhere")
    assert "01-02-01" in message and "入库作业/入库准备" in message


@pytest.mark.parametrize(
    ("code", "areas", "certificate_type"),
    [
        ("warehouse-keeper", WAREHOUSE_KEEPER_AREAS, CertificateType.LEVEL),
        ("electroplater", ELECTROPLATER_AREAS, CertificateType.SPECIAL),
    ],
)
def test_each_shipped_bank_passes_the_lint_with_every_question_on_its_point(
    app, code, areas, certificate_type
):
    trade = make_trade(code, areas=tuple(areas), certificate_type=certificate_type)
    table = BANKS_DIR / f"{code}.points.csv"
    assert load_exam_points(trade, table.name, table.read_bytes()).saved
    assert import_bank(trade, f"{code}.csv", (BANKS_DIR / f"{code}.csv").read_bytes()).saved
    for path in sorted(BANKS_DIR.glob(f"{code}*.blueprint.json")):
        load_blueprint_json(path.read_text(encoding="utf-8"), path.name)
    report = lint_bank(trade)
    figures = report.figures
    assert report.passed, [f.message for f in report.blocking]
    assert report.questions >= 300 and figures["cells_under_3x"] == 0
    assert figures["without_point"] == figures["unknown_point"] == 0
    assert figures["point_elsewhere"] == figures["points_under_2"] == 0
    assert figures["longest_key_share"] <= 0.35 and figures["near_duplicates"] == 0
    absolute = figures["absolute_true_false"]
    assert max(absolute.values()) <= 0.7 * sum(absolute.values())
    assert not [f for f in report.findings if f.check == "longest_key"]


def test_a_bad_points_table_says_where_and_loads_nothing(trade):
    bad = (
        "一级,二级,点代码,点名称,重要程度\n"
        "入库作业,验收,01-01-01,验收的内容,X\n"
        "没有这个,区域,01-01-02,名称,X\n"
        "入库作业,验收,01-01-01,重复,Y\n"
        "入库作业,验收,1_1,名称,W\n"
    )
    report = load_exam_points(trade, "points.csv", bad.encode())
    assert not report.saved
    where = [(p.number, p.field) for p in report.problems]
    assert (3, "一级") in where and (4, "点代码") in where
    assert (5, "点代码") in where and (5, "重要程度") in where
    assert db.session.scalar(db.select(db.func.count()).select_from(ExamPoint)) == 0


def test_banks_lint_prints_chinese_findings_then_json_and_exits_1_when_blocked(app, trade):
    _bank(trade, _single(20, key_longest=True))
    runner = app.test_cli_runner()
    result = in_fresh_context(runner.invoke, args=["banks", "lint", "--trade", trade.code])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    figures = json.loads(lines[-1])
    assert figures["passed"] is False and "longest_key" in figures["blocking"]
    assert figures["longest_key_share"] == 1.0 and figures["questions"] == 20
    assert lines[0].startswith("[必须整改]") and "最长" in lines[0]


def test_banks_points_loads_a_table_from_the_command_line(app, trade, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text(POINTS, encoding="utf-8")
    runner = app.test_cli_runner()
    args = ["banks", "points", str(path), "--trade", trade.code]
    dry = in_fresh_context(runner.invoke, args=[*args, "--dry-run"])
    assert dry.exit_code == 0 and "将载入 2 个鉴定点" in dry.output
    done = in_fresh_context(runner.invoke, args=args)
    assert done.exit_code == 0 and "载入 2 个鉴定点" in done.output
    path.write_text("题型,题干\n单选题,x\n", encoding="utf-8")
    refused = in_fresh_context(runner.invoke, args=args)
    assert refused.exit_code == 1 and "点代码" in refused.output


def test_the_bank_review_page_links_each_finding_to_its_question(client, login, trade):
    from certify.accounts.models import Role
    from tests.factories import make_user

    _bank(trade, _single(20, key_longest=True))
    make_user(Role.ADMIN, username="boss")
    login("boss")
    page = client.get(f"/banks/{trade.code}/lint")
    text = visible_text(page.get_data(as_text=True))
    assert page.status_code == 200 and "必须整改" in text and "100%" in text
    assert f"/banks/{trade.code}/questions/{_id(trade, '钢材到货0次')}" in page.get_data(
        as_text=True
    )


def test_the_import_preview_shows_the_files_tells(client, login, trade):
    from certify.accounts.models import Role
    from tests.factories import make_user

    make_user(Role.ADMIN, username="boss")
    login("boss")
    upload = {"file": (io.BytesIO(_csv(_single(20, key_longest=True))), "bank.csv")}
    page = client.post(f"/banks/{trade.code}/import", data=upload)
    text = visible_text(page.get_data(as_text=True))
    assert page.status_code == 200 and "评审" in text
    assert "第 2 行" in text and "明显最长" in text  # the file's row, not a bank id
    assert db.session.scalar(db.select(db.func.count()).select_from(Question)) == 0


def test_the_preview_says_when_partial_credit_is_dropped(client, login, trade):
    from certify.accounts.models import Role
    from tests.factories import make_user

    make_user(Role.ADMIN, username="boss")
    login("boss")
    gift = "$CATEGORY: 入库作业/验收\n\n仓库消防通道应当{~堆放货物 ~%50%夜间可以关闭 =保持畅通}\n"
    upload = {"file": (io.BytesIO(gift.encode()), "bank.gift")}
    text = visible_text(
        client.post(f"/banks/{trade.code}/import", data=upload).get_data(as_text=True)
    )
    assert "不完全按原文" in text and "B" in text


def test_a_file_with_problems_offers_to_import_only_the_correct_ones(client, login, trade):
    import re

    from certify.accounts.models import Role
    from tests.factories import make_user

    make_user(Role.ADMIN, username="boss")
    login("boss")
    broken = ["单选题", "没有答案的题（  ）。", "甲", "乙", "", "", "", AREA, "", "2"]
    rows = [*_single(3, key_longest=False), broken]
    upload = {"file": (io.BytesIO(_csv(rows)), "bank.csv")}
    html = client.post(f"/banks/{trade.code}/import", data=upload).get_data(as_text=True)
    assert "只导入正确的 3 道" in visible_text(html)
    button = html.index("只导入正确的 3 道")
    form = html[html.rindex("<form", 0, button) : button]
    fields = dict(re.findall(r'name="([^"]+)" type="hidden" value="([^"]*)"', form))
    assert fields.get("valid_only") == "y", form[-1500:]
    done = client.post(f"/banks/{trade.code}/import/confirm", data=fields)
    assert done.status_code == 302
    assert db.session.scalar(db.select(db.func.count()).select_from(Question)) == 3
