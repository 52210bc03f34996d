"""The trail as CSV or Excel, for auditors who work outside the application.

Every column the hash covers is exported exactly as hashed (UTC time with microseconds,
canonical JSON, both hashes), so a full export can be checked for a broken chain offline.
Column names stay the same whatever language the person exporting reads, like the other
exports, so scripts that read them keep working.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from certify.audit.chain import canonical_json, iso_utc
from certify.audit.models import AuditEvent
from certify.core import clock, spreadsheets

COLUMNS = [
    "编号",
    "时间（北京时间）",
    "时间（UTC）",
    "操作人编号",
    "操作人",
    "操作",
    "对象类型",
    "对象编号",
    "变更前",
    "变更后",
    "前一哈希",
    "哈希",
]
EXPORT_FORMATS = ("csv", "xlsx")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header
CSV_CHUNK_ROWS = 500


def export_row(event: AuditEvent) -> list[Any]:
    return [
        event.id,
        clock.local(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
        iso_utc(event.occurred_at),
        event.actor_id if event.actor_id is not None else "",
        event.actor_username,
        event.action,
        event.subject_type,
        event.subject_id,
        "" if event.before is None else canonical_json(event.before),
        "" if event.after is None else canonical_json(event.after),
        event.prev_hash or "",
        event.hash or "",
    ]


def csv_text(rows: Iterable[list[Any]], *, header: bool = False) -> str:
    """CSV lines for export rows; the header starts with a byte-order mark, so Excel reads
    the file as UTF-8 and shows the Chinese. Formula-like text is neutralised like every
    export's (core/spreadsheets.py)."""
    text = spreadsheets.csv_text(rows)
    return "\ufeff" + spreadsheets.csv_text([COLUMNS]) + text if header else text


def iter_csv(events: Iterable[AuditEvent]) -> Iterator[bytes]:
    """The whole file in chunks of rows, UTF-8."""
    yield csv_text([], header=True).encode("utf-8")
    chunk: list[list[Any]] = []
    for event in events:
        chunk.append(export_row(event))
        if len(chunk) == CSV_CHUNK_ROWS:
            yield csv_text(chunk).encode("utf-8")
            chunk = []
    if chunk:
        yield csv_text(chunk).encode("utf-8")


def write_csv(events: Iterable[AuditEvent], out: IO[bytes]) -> None:
    for chunk in iter_csv(events):
        out.write(chunk)


def write_xlsx(events: Iterable[AuditEvent], out: IO[bytes]) -> int:
    """A write-only workbook (rows are not kept in memory); returns the number of rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet("审计日志")
    sheet.freeze_panes = "A2"
    spreadsheets.append_row(sheet, COLUMNS, Font(bold=True))
    count = 0
    for event in events:
        spreadsheets.append_row(sheet, export_row(event))
        count += 1
    book.save(out)
    return count
