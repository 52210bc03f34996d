"""banks export writes what banks import reads back as the same questions."""

import pytest
import sqlalchemy as sa

from certify.banks.export import export_bank, template_xlsx
from certify.banks.importer import import_bank
from certify.banks.services import active_versions
from certify.catalog.services import ensure_area_path
from certify.demo.data import BANKS_DIR, ELECTROPLATER_AREAS, WAREHOUSE_KEEPER_AREAS
from certify.extensions import db
from tests.factories import make_trade


def _content(versions, with_meta=True):
    rows = set()
    for v in versions:
        options = tuple(sorted((o["key"], o["text"]) for o in v.options))
        item = (str(v.type), v.stem, options, tuple(v.correct), v.area.path, v.explanation)
        if with_meta:
            item += (v.difficulty, v.source)
        rows.add(item)
    return rows


@pytest.mark.parametrize(
    ("code", "areas"),
    [("warehouse-keeper", WAREHOUSE_KEEPER_AREAS), ("electroplater", ELECTROPLATER_AREAS)],
)
@pytest.mark.parametrize("fmt", ["xlsx", "csv", "gift"])
def test_shipped_bank_round_trips_through_every_export_format(app, code, areas, fmt):
    source = make_trade(code, areas=tuple(areas))
    report = import_bank(source, f"{code}.csv", (BANKS_DIR / f"{code}.csv").read_bytes())
    db.session.commit()
    assert report.saved and report.imported >= 200, report.problems[:3]
    original = active_versions(source)
    data = export_bank(original, fmt)

    target = make_trade(f"{code}-copy", areas=())
    for path in areas:
        ensure_area_path(target, path)
    again = import_bank(target, f"export.{fmt}", data)
    db.session.commit()
    assert again.saved and not again.problems and not again.duplicates
    assert again.imported == len(original)
    # GIFT carries no difficulty or source; everything else must be identical.
    with_meta = fmt != "gift"
    assert _content(active_versions(target), with_meta) == _content(original, with_meta)


def test_the_template_imports_its_own_examples(app):
    trade = make_trade("warehouse-keeper", areas=("安全消防/消防安全", "入库作业/验收"))
    report = import_bank(trade, "模板.xlsx", template_xlsx())
    assert report.saved and report.imported == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("questions"))) == 3
