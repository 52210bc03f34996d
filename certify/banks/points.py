"""A trade's 鉴定要素细目表: the examination points its bank is written against.

The table has one row per 鉴定点: the knowledge area (一级, 二级 … as the bank's 知识点
path), the point's code and name, and its importance (X core, Y general, Z auxiliary). A
reviewer of the bureau counts the bank per point; the lint (banks/lint.py) does the same.
Loading a table replaces the trade's points as a whole, or changes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from certify.audit.services import record_event
from certify.banks.models import ExamPoint, Importance
from certify.banks.validation import MAX_POINT_CODE_CHARS, POINT_CODE
from certify.catalog.models import KnowledgeArea, Trade
from certify.catalog.services import find_area_by_path
from certify.core.tables import ImportProblem, Unit, chosen_sheet, clean_cell, quoted, read_table
from certify.extensions import db

LEVELS = ("一级", "二级", "三级", "四级")
COLUMNS = (*LEVELS, "点代码", "点名称", "重要程度")
ALIASES = {
    "点代码": ("点代码", "鉴定点代码", "代码"),
    "点名称": ("点名称", "鉴定点名称", "鉴定点", "名称"),
    "重要程度": ("重要程度", "重要性", "重要性程度"),
}
SHEET_NAMES = ("鉴定要素细目表", "细目表")
MAX_POINTS = 2000
MAX_NAME_CHARS = 200


@dataclass
class PointsReport:
    """What loading a 细目表 did or would do: the points read, and every problem."""

    filename: str
    points: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    saved: bool = False


def _header(cells: list[str]) -> dict[str, int]:
    names = [c.strip() for c in cells]
    columns: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in LEVELS:
            columns.setdefault(name, i)
        for canonical, aliases in ALIASES.items():
            if name in aliases:
                columns.setdefault(canonical, i)
    return columns


def load_exam_points(
    trade: Trade, filename: str, data: bytes, *, dry_run: bool = False, actor=None
) -> PointsReport:
    """Replace the trade's 细目表 with the file's (xlsx or CSV), all rows or none."""
    report = PointsReport(filename)
    rows = _read_points(trade, filename, data, report)
    report.points = len(rows)
    if report.problems or dry_run:
        return report
    db.session.execute(sa.delete(ExamPoint).where(ExamPoint.trade_id == trade.id))
    db.session.add_all(rows)
    db.session.flush()
    record_event(
        "exam_points.loaded", trade, after={"file": filename, "points": len(rows)}, actor=actor
    )
    report.saved = True
    return report


def _read_points(trade: Trade, filename: str, data: bytes, report: PointsReport) -> list[ExamPoint]:
    def problem(number: int | None, column: str | None, message: str) -> None:
        report.problems.append(
            ImportProblem(filename, number, Unit.ROW if number else None, column, message)
        )

    points: list[ExamPoint] = []
    seen: dict[str, int] = {}
    with read_table(filename, data) as sheets:
        rows = chosen_sheet(filename, sheets, SHEET_NAMES)
        columns: dict[str, int] | None = None
        for number, raw in rows:
            cells = [clean_cell(c) for c in raw]
            if not any(cells):
                continue
            if columns is None:
                columns = _header(cells)
                missing = [c for c in ("一级", "点代码", "点名称", "重要程度") if c not in columns]
                if missing:
                    problem(
                        number,
                        None,
                        _(
                            "The first row must name the columns %(columns)s; %(missing)s "
                            "is missing.",
                            columns="、".join(COLUMNS),
                            missing="、".join(missing),
                        ),
                    )
                    return []
                continue
            if len(points) >= MAX_POINTS:
                problem(None, None, _("The table has more than %(n)d points.", n=MAX_POINTS))
                return []
            point = _row_point(trade, number, cells, columns, seen, problem)
            if point is not None:
                points.append(point)
    if columns is None:
        problem(None, None, _("The file is empty."))
    elif not points and not report.problems:
        problem(None, None, _("The table has no points."))
    return points


def _row_point(trade, number, cells, columns, seen, problem) -> ExamPoint | None:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    path = KnowledgeArea.PATH_SEPARATOR.join(cell(level) for level in LEVELS if cell(level))
    code, name, importance = cell("点代码"), cell("点名称"), cell("重要程度").upper()
    ok = True
    area = find_area_by_path(trade, path) if path else None
    if area is None:
        problem(
            number,
            "一级",
            _(
                "The trade has no knowledge area “%(path)s”: use the bank's 知识点 paths.",
                path=quoted(path),
            )
            if path
            else _("Name the point's knowledge area (一级, 二级 …)."),
        )
        ok = False
    if len(code) > MAX_POINT_CODE_CHARS or not POINT_CODE.fullmatch(code):
        problem(number, "点代码", _("Write the code as 03-02-01 (digits joined by hyphens)."))
        ok = False
    elif code in seen:
        problem(
            number, "点代码", _("Code %(code)s is already on row %(n)d.", code=code, n=seen[code])
        )
        ok = False
    if not name or len(name) > MAX_NAME_CHARS:
        problem(number, "点名称", _("Name the point in 1 to %(n)d characters.", n=MAX_NAME_CHARS))
        ok = False
    if importance not in {i.value for i in Importance}:
        problem(number, "重要程度", _("Write X (core), Y (general) or Z (auxiliary)."))
        ok = False
    if not ok:
        return None
    seen[code] = number
    return ExamPoint(
        trade_id=trade.id, area_id=area.id, code=code, name=name, importance=Importance(importance)
    )


def trade_points(trade: Trade) -> list[ExamPoint]:
    return list(
        db.session.scalars(
            sa.select(ExamPoint).where(ExamPoint.trade_id == trade.id).order_by(ExamPoint.code)
        )
    )


def export_points_csv(trade: Trade) -> bytes:
    """The 细目表 as it loads again (UTF-8 with a BOM for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for point in trade_points(trade):
        parts = point.area.path.split(KnowledgeArea.PATH_SEPARATOR)[: len(LEVELS)]
        levels = parts + [""] * (len(LEVELS) - len(parts))
        writer.writerow([*levels, point.code, point.name, point.importance.value])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
