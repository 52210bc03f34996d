import sqlalchemy as sa

from certify.banks.models import ExamBlueprint, Question
from certify.extensions import db
from tests.banks.conftest import ROWS, csv_bytes, xlsx_bytes
from tests.conftest import in_fresh_context

BROKEN = ["单选题", "没有答案", "甲", "乙", "", "", "", "入库作业/验收", "", "", ""]


def _count():
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Question))


def test_banks_import_prints_counts_and_saves(app, trade, tmp_path):
    path = tmp_path / "bank.xlsx"
    path.write_bytes(xlsx_bytes(ROWS))
    result = in_fresh_context(
        app.test_cli_runner().invoke, args=["banks", "import", str(path), "--trade", trade.code]
    )
    assert result.exit_code == 0, result.output
    assert "已导入：4 道\n重复：0 道\n跳过：0 道\n有问题：0 道" in result.output
    assert _count() == 4


def test_banks_import_with_problems_saves_nothing_and_exits_non_zero(app, trade, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_bytes(csv_bytes([*ROWS, BROKEN], "gbk"))
    runner = app.test_cli_runner()
    args = ["banks", "import", str(path), "--trade", trade.code]
    result = in_fresh_context(runner.invoke, args=args)
    assert result.exit_code == 1
    assert "有问题：1 道" in result.output and "bank.csv, 第 6 行, 答案" in result.output
    assert _count() == 0
    dry = in_fresh_context(runner.invoke, args=[*args, "--valid-only", "--dry-run"])
    assert "将导入：4 道" in dry.output and _count() == 0
    result = in_fresh_context(runner.invoke, args=[*args, "--valid-only"])
    assert result.exit_code == 0 and "已导入：4 道" in result.output and _count() == 4


def test_banks_import_dry_run(app, trade, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_bytes(csv_bytes(ROWS))
    result = in_fresh_context(
        app.test_cli_runner().invoke,
        args=["banks", "import", str(path), "--trade", trade.code, "--dry-run"],
    )
    assert result.exit_code == 0 and _count() == 0
    assert "将导入：4 道" in result.output and "试运行：没有保存任何内容。" in result.output
    assert all(not line.isascii() for line in result.output.splitlines() if line.strip())


def test_a_dry_run_refuses_what_the_import_would_refuse(app, trade, tmp_path):
    """A category name over 64 characters, or 7 levels deep, fails the dry run, not only the
    real import; the message names the line and quotes at most 60 characters."""
    path = tmp_path / "bank.gift"
    long_name = "很长" * 5000
    deep = "/".join("一二三四五六七")
    gift = f"$CATEGORY: {long_name}\n\n题一{{=对 ~错}}\n\n$CATEGORY: {deep}\n\n题二{{T}}\n"
    path.write_text(gift, encoding="utf-8")
    args = ["banks", "import", str(path), "--trade", trade.code, "--create-areas", "--dry-run"]
    result = in_fresh_context(app.test_cli_runner().invoke, args=args)
    assert result.exit_code == 1, result.output
    assert "64" in result.output and "六级" in result.output
    assert long_name[:200] not in result.output and "将导入：0 道" in result.output


def test_banks_import_refuses_a_broken_file_clearly(app, trade, tmp_path):
    path = tmp_path / "bank.xlsx"
    path.write_bytes(b"PK\x03\x04garbage")
    result = app.test_cli_runner().invoke(
        args=["banks", "import", str(path), "--trade", trade.code]
    )
    assert result.exit_code == 1 and "bank.xlsx" in result.output


def test_banks_import_unknown_trade(app, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_bytes(csv_bytes(ROWS))
    result = app.test_cli_runner().invoke(args=["banks", "import", str(path), "--trade", "nope"])
    assert result.exit_code == 1 and "nope" in result.output


def test_banks_export_and_template(app, trade, tmp_path):
    runner = app.test_cli_runner()
    source = tmp_path / "bank.csv"
    source.write_bytes(csv_bytes(ROWS))
    runner.invoke(args=["banks", "import", str(source), "--trade", trade.code])
    for fmt in ("xlsx", "csv", "gift"):
        out = tmp_path / f"out.{fmt}"
        result = runner.invoke(
            args=["banks", "export", "--trade", trade.code, "--format", fmt, "-o", str(out)]
        )
        assert result.exit_code == 0 and "4 questions" in result.output and out.stat().st_size
    result = runner.invoke(args=["banks", "template", "-o", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 0


def test_demo_load_ships_both_banks_and_blueprints(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load"])
    assert _count() >= 400
    listing = runner.invoke(args=["blueprints", "list"]).output.splitlines()
    assert len(listing) == 2 and all(line.endswith("\tok") for line in listing)
    blueprint_id = db.session.scalar(sa.select(ExamBlueprint.id).order_by(ExamBlueprint.id))
    check = runner.invoke(args=["blueprints", "check", str(blueprint_id)])
    assert check.exit_code == 0 and "verdict: ideal" in check.output
    again = runner.invoke(args=["demo", "load"])
    assert "questions for" not in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExamBlueprint)) == 2


def test_blueprints_export_and_load(app, tmp_path):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load"])
    out = tmp_path / "bp.json"
    assert runner.invoke(args=["blueprints", "export", "1", "-o", str(out)]).exit_code == 0
    text = out.read_text().replace("仓库保管员 五级 理论知识考试", "复制的规则")
    out.write_text(text)
    result = runner.invoke(args=["blueprints", "load", str(out)])
    assert result.exit_code == 0 and "复制的规则" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"trade": "warehouse-keeper"}')
    result = runner.invoke(args=["blueprints", "load", str(bad)])
    assert result.exit_code == 1 and "bad.json" in result.output


def test_banks_import_refuses_a_huge_file_without_reading_it(app, trade, tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.truncate(200 * 1024 * 1024)  # a sparse 200 MB file
    result = app.test_cli_runner().invoke(
        args=["banks", "import", str(path), "--trade", trade.code]
    )
    assert result.exit_code == 1 and "10 MB" in result.output
