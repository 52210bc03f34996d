"""A bank's exports keep formula-like stems, options and explanations as text, and import back."""

import csv
import io

from openpyxl import Workbook, load_workbook

from certify.banks.export import export_bank
from certify.banks.importer import import_bank
from certify.banks.services import active_versions
from certify.extensions import db
from tests.banks.conftest import AREAS, HEADER
from tests.factories import make_trade

STEM = '=HYPERLINK("http://evil","x")'
ROWS = [
    [
        *("单选题", STEM, "-5℃以下", "+5℃以上", "@SUM(A1)", "'=引号在前"),
        *("A", AREAS[0], "易", "=1+1", ""),
    ],
    ["判断题", "-5℃以下的仓库应当保温。", "", "", "", "", "对", AREAS[1], "", "", "@来源"],
]


def _source() -> bytes:
    """The author's own workbook, every cell typed as text (as Excel does for '=…)."""
    book = Workbook()
    for values in [HEADER, *ROWS]:
        book.active.append(values)
    for row in book.active.iter_rows():
        for cell in row:
            cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _bank(trade):
    # xlsx, not CSV: the CSV importer would read "'=引号在前" as an exporter's mark.
    report = import_bank(trade, "hostile.xlsx", _source())
    db.session.commit()
    assert report.saved and report.imported == 2, report.problems
    return active_versions(trade)


def _content(versions):
    return {
        (v.stem, tuple((o["key"], o["text"]) for o in v.options), v.explanation, v.source)
        for v in versions
    }


def test_the_xlsx_export_writes_string_cells(trade):
    data = export_bank(_bank(trade), "xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    cells = {cell.value: cell for row in sheet.iter_rows(min_row=2) for cell in row}
    for text in (STEM, "-5℃以下", "+5℃以上", "@SUM(A1)", "=1+1", "@来源"):
        assert cells[text].data_type == "s", text
    assert not any(cell.data_type == "f" for cell in cells.values())


def test_the_csv_export_puts_an_apostrophe_before_formula_like_text(trade):
    data = export_bank(_bank(trade), "csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    single = next(r for r in rows if r[0] == "单选题")
    assert single[1] == "'" + STEM
    assert single[2:6] == ["'-5℃以下", "'+5℃以上", "'@SUM(A1)", "''=引号在前"]
    assert "'=1+1" in single
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_both_exports_import_back_as_written(trade):
    original = _bank(trade)
    for fmt in ("xlsx", "csv"):
        copy = make_trade(f"copy-{fmt}", areas=AREAS)
        again = import_bank(copy, f"export.{fmt}", export_bank(original, fmt))
        db.session.commit()
        assert again.saved and not again.problems and again.imported == 2
        assert _content(active_versions(copy)) == _content(original), fmt
