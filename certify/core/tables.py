"""Reading the files people upload: question banks, class rosters, practical scores.

One place decides whether a file can be read at all, and says so the same way for every
import: the size limit, text as Chinese offices save it (UTF-8 with or without BOM, UTF-16,
GB18030), a workbook's archive checked before openpyxl unpacks it (zip bombs), and the one
spreadsheet reader, `read_table`, which gives the sheets of an xlsx file or a CSV as rows
numbered the way the user sees them in Excel. A file that cannot be used as a whole raises
UnusableFile; a problem in one place of it is an ImportProblem that names the file, the row
or line, and the column, so the person can fix the file and upload it again. What the rows
mean (which columns, which values) is for each import to judge.
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from flask_babel import gettext as _

# Limits that keep a hostile or mistaken file from exhausting the server.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_XLSX_RATIO = 200

ZIP_MAGIC = b"PK\x03\x04"  # an xlsx is a ZIP archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary Excel (.xls)

# A row of a table: its number as the user sees it (1-based, the header usually 1) and its
# cells (None, str, int, float, bool, date … from a workbook; str from CSV).
Row = tuple[int, list[object]]


class Unit(enum.StrEnum):
    """What a problem's number counts: spreadsheet rows or text lines."""

    ROW = "row"
    LINE = "line"


@dataclass(frozen=True)
class ImportProblem:
    """Something wrong with one place of one file, said so a person can fix it."""

    filename: str
    number: int | None  # row or line; None for the file as a whole
    unit: Unit | None
    field: str | None  # the column or part, e.g. "答案"
    message: str

    def where(self) -> str:
        parts = [self.filename]
        if self.number is not None and self.unit is Unit.ROW:
            parts.append(_("row %(n)d", n=self.number))
        elif self.number is not None:
            parts.append(_("line %(n)d", n=self.number))
        if self.field:
            parts.append(self.field)
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


QUOTE_CHARS = 60


def quoted(text: object) -> str:
    """A user's text inside a message: at most QUOTE_CHARS characters of it, white space
    folded, so a 10,000-character cell is not echoed whole."""
    folded = " ".join(str(text).split())
    return folded if len(folded) <= QUOTE_CHARS else folded[: QUOTE_CHARS - 1] + "…"


class UnusableFile(Exception):
    """The file as a whole cannot be used (encoding, size, corrupt archive, no header …)."""

    def __init__(self, filename: str, message: str):
        super().__init__(f"{filename}: {message}")
        self.filename = filename
        self.message = message


def decode_text(data: bytes, filename: str) -> str:
    """Text from bytes as Chinese offices save it: UTF-8 (with or without BOM),
    UTF-16 with BOM (Excel's "Unicode text"), or GB18030/GBK (Excel's CSV in China)."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text or _looks_binary(text):
            break
        return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    raise UnusableFile(
        filename,
        _(
            "This file is not readable text. Save it as UTF-8 (or as CSV from Excel) "
            "and upload it again."
        ),
    )


def _looks_binary(text: str) -> bool:
    """Control characters other than tab and newline mean a binary file decoded by chance."""
    sample = text[:4096]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\n\r\f")
    return controls > max(2, len(sample) // 100)


def clean_cell(value: object) -> str:
    """A cell as text: empty for an empty cell, 3 for Excel's 3.0, no surrounding spaces."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _check_xlsx_archive(data: bytes, filename: str) -> None:
    """Refuse zip bombs and non-workbooks before openpyxl unpacks anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            names = {e.filename for e in entries}
            total = sum(e.file_size for e in entries)
            packed = max(1, sum(e.compress_size for e in entries))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnusableFile(filename, _not_excel()) from exc
    if "xl/workbook.xml" not in names:
        raise UnusableFile(filename, _not_excel())
    if total > MAX_XLSX_UNCOMPRESSED or total / packed > MAX_XLSX_RATIO:
        raise UnusableFile(
            filename, _("The workbook unpacks to an unreasonable size; it is refused.")
        )


def _not_excel() -> str:
    return _("This is not a readable Excel (.xlsx) file. Save it again from Excel.")


@contextmanager
def read_table(
    filename: str, data: bytes, kind: Literal["xlsx", "csv"] | None = None
) -> Iterator[list[Iterator[Row]]]:
    """The sheets of an uploaded table, each an iterator of numbered rows.

    `kind` is the format when the caller has decided it (the bank import, by content and
    name); without it the bytes decide: a ZIP is a workbook, an old .xls is refused with
    what to do, anything else is CSV or tab-separated text in any of the encodings of
    decode_text(). A CSV is one sheet.

    Read the rows inside the `with` block: a workbook that breaks while it is read, or a CSV
    line the csv module cannot read, raises UnusableFile from there, with the place.
    """
    if len(data) > MAX_FILE_BYTES:
        raise UnusableFile(filename, _("The file is larger than 10 MB."))
    named = kind is not None  # the bank import has decided it is a CSV; others take any text
    if kind is None:
        if data.startswith(OLE_MAGIC):
            raise UnusableFile(
                filename,
                _(
                    "This is an old Excel (.xls) file. "
                    "Save it as .xlsx in Excel and upload it again."
                ),
            )
        kind = "xlsx" if data.startswith(ZIP_MAGIC) else "csv"
    if kind == "xlsx":
        with _workbook_sheets(filename, data) as sheets:
            yield sheets
        return
    text = decode_text(data, filename)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        yield [enumerate(reader, start=1)]
    except csv.Error as exc:
        if named:
            message = _(
                "Line %(n)d of the CSV cannot be read (%(why)s).", n=reader.line_num, why=exc
            )
        else:
            message = _(
                "Line %(n)d of the file cannot be read (%(why)s).", n=reader.line_num, why=exc
            )
        raise UnusableFile(filename, message) from exc


@contextmanager
def _workbook_sheets(filename: str, data: bytes) -> Iterator[list[Iterator[Row]]]:
    from openpyxl import load_workbook

    _check_xlsx_archive(data, filename)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on broken files
        raise UnusableFile(filename, _not_excel()) from exc
    archive = zipfile.ZipFile(io.BytesIO(data))
    try:
        yield [SheetRows(sheet, archive) for sheet in workbook.worksheets]
    except UnusableFile:
        raise
    except Exception as exc:  # the same, met while reading the rows
        raise UnusableFile(filename, _not_excel()) from exc
    finally:
        workbook.close()
        archive.close()


_MERGE_RE = re.compile(rb'<mergeCell\b[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_CELL_RE = re.compile(rb'<c\b[^>]*\br="([A-Z]+)(\d+)"[^>]*?(?:/>|>(.*?)</c>)', re.DOTALL)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.decode():
        number = number * 26 + ord(letter) - 64
    return number


class SheetRows:
    """A worksheet's numbered rows, and what openpyxl's fast reader does not tell: whether the
    sheet is hidden, which cells lie inside merged ranges (only the first cell of a range has
    a value), and which formulas were saved without their value (data_only reads None)."""

    def __init__(self, sheet, archive: zipfile.ZipFile) -> None:
        self.sheet = sheet
        self.title: str = sheet.title
        self.visible: bool = sheet.sheet_state == "visible"
        self._archive = archive
        self._scanned = False
        self.merged: dict[tuple[int, int], str] = {}  # (row, column) → "A2:A5", not the first
        self.uncached: set[tuple[int, int]] = set()
        self._rows: Iterator[Row] | None = None

    def __iter__(self) -> SheetRows:
        return self

    def __next__(self) -> Row:
        """The rows once, as the sheet's iterator (readers take the header with next())."""
        if self._rows is None:
            self.scan()
            self._rows = self._read()
        return next(self._rows)

    def _read(self) -> Iterator[Row]:
        # The size a file states (A1:Z1048576, say) is not believed: only the rows it holds.
        self.sheet.reset_dimensions()
        for number, row in enumerate(self.sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)

    def scan(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        path = (getattr(self.sheet, "_worksheet_path", "") or "").lstrip("/")
        try:
            xml = self._archive.read(path)
        except KeyError:
            return
        for first_col, first_row, last_col, last_row in _MERGE_RE.findall(xml):
            top, left = int(first_row), _column_number(first_col)
            bottom, right = int(last_row), _column_number(last_col)
            if (bottom - top + 1) * (right - left + 1) > MAX_MERGED_CELLS:
                continue
            ref = f"{first_col.decode()}{top}:{last_col.decode()}{bottom}"
            for r in range(top, bottom + 1):
                for c in range(left, right + 1):
                    if (r, c) != (top, left):
                        self.merged[(r, c)] = ref
        for col, row, body in _CELL_RE.findall(xml):
            if body and b"<f" in body and not re.search(rb"<v>[^<]", body):
                self.uncached.add((int(row), _column_number(col)))


def chosen_sheet(filename: str, sheets: list, names: tuple[str, ...] = ()):
    """The sheet a person means: the visible one named in `names` (e.g. 题库), else the first
    visible one. A hidden sheet (lookup lists, instructions, last year's copy) is never read."""
    visible = [s for s in sheets if getattr(s, "visible", True)]
    if not visible:
        raise UnusableFile(filename, _("Every worksheet of the file is hidden."))
    for sheet in visible:
        if getattr(sheet, "title", None) in names:
            return sheet
    return visible[0]


def empty_cell_reason(sheet, row: int, column: int) -> str | None:
    """Why a workbook cell reads empty when it may not be: inside merged cells, or a formula
    saved without its value. None for a CSV or a cell that is simply empty."""
    merged = getattr(sheet, "merged", {}).get((row, column))
    if merged:
        return _(
            "This cell is inside the merged cells %(range)s, so it is empty: unmerge them "
            "and fill the value into every row.",
            range=merged,
        )
    if (row, column) in getattr(sheet, "uncached", ()):
        return _(
            "This cell holds a formula saved without its value: open the file in Excel or WPS "
            "and save it again, or paste the values instead of the formulas."
        )
    return None


MAX_MERGED_CELLS = 100_000  # a range larger than this is a formatting block, not data
