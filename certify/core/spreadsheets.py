"""Cells a spreadsheet will never run: the one rule for every CSV and xlsx the platform writes.

Excel, WPS and LibreOffice read a cell that starts with `=`, `+`, `-` or `@` as a formula (and
skip a leading tab or carriage return before looking), so text someone typed into a question
stem or a roster's 工作单位 — `=HYPERLINK("http://evil","x")`, `=cmd|' /C calc'!A0` — would run
on the desk of whoever opens the export (CSV or formula injection). Every exporter writes its
cells through this module, so the rule lives in one place:

- CSV: such text gets one leading apostrophe, the spreadsheets' own mark for "this is text".
  Text that already starts with apostrophes before one of those characters gets one more, so
  `unquote_csv_cell()` can strip exactly the one the exporter added and a bank exported to CSV
  imports back as it was ("-5℃以下" → "'-5℃以下" → "-5℃以下").
- xlsx: every text value is an explicit string cell (never a formula cell), and formula-like
  text also carries Excel's quote prefix, so editing the cell in Excel keeps it text. The
  value itself is unchanged, so reading the workbook back gives the text as written.

Numbers (scores, counts) are written as numbers: only text is ever neutralised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_TEXT_MARK = "'"


def looks_like_formula(value: Any) -> bool:
    """True for text a spreadsheet would run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _needs_mark(text: str) -> bool:
    # "'=x" needs a mark too: the importer strips one apostrophe before =, so it would
    # otherwise read back as "=x".
    return text.lstrip(CSV_TEXT_MARK).startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """The value as a CSV cell: formula-like text behind an apostrophe; anything else as is."""
    if isinstance(value, str) and _needs_mark(value):
        return CSV_TEXT_MARK + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(value) for value in values]


def unquote_csv_cell(text: str) -> str:
    """Undo csv_cell(): strip the one apostrophe it puts before formula-like text.

    An apostrophe anywhere else is the author's own and stays.
    """
    if text.startswith(CSV_TEXT_MARK) and _needs_mark(text[1:]):
        return text[1:]
    return text


def csv_text(rows: Iterable[Iterable[Any]], **writer_options: Any) -> str:
    """Rows as CSV text, every cell through csv_cell()."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, **writer_options)
    for row in rows:
        writer.writerow(csv_row(row))
    return buffer.getvalue()


def xlsx_cell(sheet: Worksheet, value: Any, font: Font | None = None) -> Cell:
    """A cell for `sheet.append()` (ordinary and write-only sheets alike) that is never a
    formula: text is a string cell, formula-like text also carries the quote prefix.

    Characters an xlsx file cannot hold (control characters other than tab, LF and CR) are
    dropped: openpyxl would refuse the whole workbook for one of them.
    """
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if looks_like_formula(value):
            cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell


def append_row(sheet: Worksheet, values: Iterable[Any], font: Font | None = None) -> None:
    """sheet.append(values), with every cell made by xlsx_cell()."""
    sheet.append([xlsx_cell(sheet, value, font) for value in values])
