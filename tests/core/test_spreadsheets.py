"""Every sheet the platform writes keeps formula-like text as text (CSV injection)."""

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from certify.core.spreadsheets import (
    FORMULA_STARTS,
    append_row,
    csv_cell,
    csv_text,
    unquote_csv_cell,
)
from certify.extensions import db
from certify.results import reports
from tests.certificates.conftest import final_pass, signing_key  # noqa: F401

HOSTILE = [
    '=HYPERLINK("http://evil","x")',
    "=cmd|' /C calc'!A0",
    "+86 138",
    "-5℃以下",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_gets_one_apostrophe_in_csv(text):
    assert csv_cell(text) == "'" + text
    assert unquote_csv_cell(csv_cell(text)) == text


@pytest.mark.parametrize("value", [-5, 3.5, 0, None, "", "张三", "a=b", "'引号", "''", "'"])
def test_numbers_and_plain_text_stay_as_they_are(value):
    assert csv_cell(value) == value
    if isinstance(value, str):
        assert unquote_csv_cell(value) == value


def test_an_apostrophe_already_before_a_formula_start_survives_the_round_trip():
    assert csv_cell("'=1+1") == "''=1+1"
    assert unquote_csv_cell("''=1+1") == "'=1+1"
    assert unquote_csv_cell("'=1+1") == "=1+1"


@given(st.text(alphabet=st.sampled_from([*FORMULA_STARTS, "'", "a", "题", " "]), max_size=8))
def test_unquote_undoes_csv_cell_for_any_text(text):
    assert unquote_csv_cell(csv_cell(text)) == text
    assert not str(csv_cell(text)).startswith(FORMULA_STARTS)


def test_csv_text_writes_the_apostrophe_and_leaves_numbers():
    assert csv_text([["=1+1", -3, 2.5, "ok"]]) == "'=1+1,-3,2.5,ok\r\n"


@pytest.mark.parametrize("write_only", [False, True])
def test_xlsx_cells_are_strings_never_formulas(write_only):
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("s") if write_only else book.active
    append_row(sheet, [*HOSTILE, -5, 82.5, None, "bell\x07"])
    buffer = io.BytesIO()
    book.save(buffer)
    cells = next(load_workbook(buffer).worksheets[0].iter_rows())
    for cell, text in zip(cells, HOSTILE, strict=False):
        # XML reads a stored CR back as LF: the text is still text.
        assert (cell.data_type, cell.value) == ("s", text.replace("\r", "\n"))
        assert cell.quotePrefix
    numbers = cells[len(HOSTILE) : len(HOSTILE) + 2]
    assert [(c.data_type, c.value) for c in numbers] == [("n", -5), ("n", 82.5)]
    assert cells[-1].value == "bell"  # a control character xlsx cannot hold is dropped


def test_the_results_workbook_keeps_a_hostile_name_as_text(final_pass):  # noqa: F811
    final_pass.user.name = '=HYPERLINK("http://evil","x")'
    db.session.commit()
    sheet = load_workbook(io.BytesIO(reports.results_xlsx(final_pass.session))).active
    name, theory, practical = sheet["A2"], sheet["C2"], sheet["D2"]
    assert (name.data_type, name.value) == ("s", '=HYPERLINK("http://evil","x")')
    assert (theory.data_type, theory.value) == ("n", 100)
    assert (practical.data_type, practical.value) == ("n", 82)
