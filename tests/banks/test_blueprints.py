from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certify.banks import blueprints as bp
from certify.banks.importer import import_bank
from certify.banks.types import QuestionType
from certify.catalog.models import CertificateType
from certify.core.errors import ValidationFailed
from certify.demo.data import BANKS_DIR, ELECTROPLATER_AREAS, WAREHOUSE_KEEPER_AREAS
from certify.extensions import db
from tests.factories import make_trade


@given(
    count=st.integers(0, 500),
    weights=st.lists(st.integers(1, 100), min_size=1, max_size=12),
)
def test_allocation_always_adds_up_to_the_section(count, weights):
    shares = bp.allocate(count, list(enumerate(weights)))
    assert sum(shares.values()) == count
    total = sum(weights)
    for area, weight in enumerate(weights):
        assert abs(shares[area] - count * weight / total) < 1


def test_allocation_by_largest_remainder():
    # 10 questions over 8/12/80 % → 0.8, 1.2, 8.0 → 1, 1, 8
    assert bp.allocate(10, [(1, 8), (2, 12), (3, 80)]) == {1: 1, 2: 1, 3: 8}


def _data(**overrides):
    values = dict(
        name="五级理论",
        level=5,
        duration_minutes=90,
        pass_mark=60,
        sections=[
            bp.SectionData(QuestionType.TRUE_FALSE, 60, Decimal("0.5")),
            bp.SectionData(QuestionType.SINGLE, 70, Decimal("1")),
        ],
        quotas={"入库作业": 40, "安全消防": 60},
    )
    values.update(overrides)
    return bp.BlueprintData(**values)


def test_a_valid_blueprint_is_saved_and_exported(trade):
    blueprint = bp.save_blueprint(trade, _data())
    db.session.commit()
    assert blueprint.total_points == 100 and blueprint.question_count == 130
    exported = bp.export_blueprint(blueprint)
    assert exported["sections"][0] == {"type": "true_false", "count": 60, "points": "0.5"}
    assert exported["quotas"] == [
        {"area": "入库作业", "weight": 40},
        {"area": "安全消防", "weight": 60},
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"sections": [bp.SectionData(QuestionType.SINGLE, 90, Decimal(1))]}, "sections", "90"),
        ({"quotas": {"入库作业": 40, "安全消防": 50}}, "quotas", "90%"),
        ({"quotas": {"入库作业": 40, "入库作业/验收": 60}}, "quotas", "inside"),
        ({"quotas": {"出库作业": 100}}, "quotas", "出库作业"),
        ({"level": 3}, "level", "levels"),
        ({"difficulty_mix": {1: 50, 2: 30}}, "difficulty_mix", "100%"),
        (
            {
                "sections": [
                    bp.SectionData(QuestionType.SINGLE, 50, Decimal(1)),
                    bp.SectionData(QuestionType.SINGLE, 50, Decimal(1)),
                ]
            },
            "sections",
            "one section",
        ),
        (
            {"sections": [bp.SectionData(QuestionType.SINGLE, 300, Decimal("0.333"))]},
            "sections",
            "positive",
        ),
    ],
)
def test_blueprint_rules_name_the_field(trade, overrides, field, words):
    with pytest.raises(ValidationFailed) as caught:
        bp.save_blueprint(trade, _data(**overrides))
    problem = next(p for p in caught.value.problems if p.field == field)
    assert words in problem.message


def test_a_special_trade_blueprint_has_no_level(special_trade):
    with pytest.raises(ValidationFailed, match="no levels"):
        bp.save_blueprint(special_trade, _data(level=5, quotas={}))
    assert bp.save_blueprint(special_trade, _data(level=None, quotas={})).level is None


def test_the_check_names_each_shortfall(trade):
    rows = (
        "题型,题干,选项A,选项B,答案,知识点\n"
        + "".join(f"单选题,入库题{i}？,甲,乙,A,入库作业/验收\n" for i in range(30))
        + "".join(f"判断题,消防说法{i}。,,,正确,安全消防/消防安全\n" for i in range(10))
    )
    import_bank(trade, "x.csv", rows.encode())
    blueprint = bp.save_blueprint(
        trade,
        _data(
            sections=[
                bp.SectionData(QuestionType.SINGLE, 40, Decimal("1.5")),
                bp.SectionData(QuestionType.TRUE_FALSE, 40, Decimal("1")),
            ],
            quotas={"入库作业": 50, "安全消防": 50},
        ),
    )
    check = bp.check_blueprint(blueprint)
    cells = {(r.section_type, r.area.path): (r.needed, r.available, r.status) for r in check.rows}
    assert cells[(QuestionType.SINGLE, "入库作业")] == (20, 30, "thin")
    assert cells[(QuestionType.SINGLE, "安全消防")] == (20, 0, "short")
    assert cells[(QuestionType.TRUE_FALSE, "安全消防")] == (20, 10, "short")
    assert cells[(QuestionType.TRUE_FALSE, "入库作业")] == (20, 0, "short")
    assert not check.satisfiable and len(check.shortfalls) == 4


@pytest.mark.parametrize(
    ("code", "areas", "blueprint_file", "certificate_type"),
    [
        (
            "warehouse-keeper",
            WAREHOUSE_KEEPER_AREAS,
            "warehouse-keeper-5.blueprint.json",
            CertificateType.LEVEL,
        ),
        (
            "electroplater",
            ELECTROPLATER_AREAS,
            "electroplater.blueprint.json",
            CertificateType.SPECIAL,
        ),
    ],
)
def test_each_shipped_bank_satisfies_its_shipped_blueprint_ideally(
    app, code, areas, blueprint_file, certificate_type
):
    trade = make_trade(code, areas=tuple(areas), certificate_type=certificate_type)
    report = import_bank(trade, f"{code}.csv", (BANKS_DIR / f"{code}.csv").read_bytes())
    assert report.saved and report.imported >= 200
    blueprint = bp.load_blueprint_json(
        (BANKS_DIR / blueprint_file).read_text(encoding="utf-8"), blueprint_file
    )
    assert blueprint.total_points == 100
    check = bp.check_blueprint(blueprint)
    assert check.ideal, [(r.status, getattr(r, "area", None)) for r in check.shortfalls]


def test_blueprint_json_problems_are_reported_not_raised(trade):
    with pytest.raises(ValidationFailed, match="not valid JSON"):
        bp.load_blueprint_json("{", "bad.json")
    with pytest.raises(ValidationFailed, match="sections"):
        bp.load_blueprint_json('{"trade": "warehouse-keeper", "name": "x"}', "bad.json")
