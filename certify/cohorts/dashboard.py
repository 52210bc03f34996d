"""What a trainer needs to see about a class: who practises, what is weak, how mocks go."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from certify.accounts.models import User
from certify.banks.services import subtree_ids
from certify.catalog.models import Trade
from certify.cohorts.models import Cohort
from certify.core.masking import mask_id_number
from certify.core.spreadsheets import append_row
from certify.extensions import db
from certify.training.models import MockAttempt, PracticeAnswer

BUCKETS = [(low, low + 10) for low in range(0, 100, 10)]


@dataclass
class WorkerRow:
    user: User
    answers: int
    right: int
    areas_tried: int
    last_active: datetime | None
    mock_count: int
    mock_best: float | None
    mock_last: float | None

    @property
    def accuracy(self) -> int | None:
        return round(100 * self.right / self.answers) if self.answers else None


@dataclass
class AreaRow:
    name: str
    answers: int
    right: int

    @property
    def accuracy(self) -> int:
        return round(100 * self.right / self.answers) if self.answers else 0


@dataclass
class Dashboard:
    workers: list[WorkerRow]
    areas: list[AreaRow]  # weakest first
    histogram: list[tuple[str, int]]  # ("60–69", n) of each worker's best mock score
    practising: int


def build_dashboard(cohort: Cohort) -> Dashboard:
    users = [e.user for e in cohort.enrolments]
    ids = [u.id for u in users] or [-1]
    trade = cohort.trade
    root_of = _root_area_names(trade)
    per_user, per_area = _practice_stats(ids, root_of)
    mocks = _submitted_mocks(ids, trade)
    workers = [
        _worker_row(user, per_user[user.id], mocks.get(user.id, []))
        for user in sorted(users, key=lambda u: u.name)
    ]
    areas = _area_rows(trade, per_area)
    histogram = _histogram([w.mock_best for w in workers if w.mock_best is not None])
    return Dashboard(workers, areas, histogram, sum(1 for w in workers if w.answers))


def _root_area_names(trade: Trade) -> dict[int, str]:
    """Area id → the name of its top-level area: a trainer reads weak points at the level of
    the syllabus's chapters, not of every leaf."""
    root_of = {}
    for root in trade.root_areas:
        for area_id in subtree_ids(root):
            root_of[area_id] = root.name
    return root_of


def _practice_stats(
    ids: list[int], root_of: dict[int, str]
) -> tuple[dict[int, dict], dict[str, list[int]]]:
    """Practice answers in the trade's areas, counted per worker and per top-level area
    ([answers, right]) in one pass over the rows."""
    per_user: dict[int, dict] = defaultdict(
        lambda: {"answers": 0, "right": 0, "areas": set(), "last": None}
    )
    per_area: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rows = db.session.execute(
        sa.select(
            PracticeAnswer.user_id,
            PracticeAnswer.area_id,
            PracticeAnswer.correct,
            PracticeAnswer.answered_at,
        ).where(PracticeAnswer.user_id.in_(ids), PracticeAnswer.area_id.in_(list(root_of) or [-1]))
    )
    for user_id, area_id, correct, at in rows:
        stats = per_user[user_id]
        stats["answers"] += 1
        stats["right"] += int(correct)
        stats["areas"].add(root_of[area_id])
        stats["last"] = max(stats["last"], at) if stats["last"] else at
        per_area[root_of[area_id]][0] += 1
        per_area[root_of[area_id]][1] += int(correct)
    return per_user, per_area


def _submitted_mocks(ids: list[int], trade: Trade) -> dict[int, list[MockAttempt]]:
    """Each worker's handed-in mock exams of this trade, oldest first (the last is the latest)."""
    mocks: dict[int, list[MockAttempt]] = defaultdict(list)
    for attempt in db.session.scalars(
        sa.select(MockAttempt)
        .where(MockAttempt.user_id.in_(ids), MockAttempt.submitted_at.is_not(None))
        .order_by(MockAttempt.submitted_at)
    ):
        if attempt.blueprint.trade_id == trade.id:
            mocks[attempt.user_id].append(attempt)
    return mocks


def _worker_row(user: User, stats: dict, tries: list[MockAttempt]) -> WorkerRow:
    scores = [m.score for m in tries if m.score is not None]
    return WorkerRow(
        user,
        stats["answers"],
        stats["right"],
        len(stats["areas"]),
        stats["last"],
        len(tries),
        max(scores) if scores else None,
        scores[-1] if scores else None,
    )


def _area_rows(trade: Trade, per_area: dict[str, list[int]]) -> list[AreaRow]:
    """Weakest first; areas nobody practised come last, so they are not mistaken for weak."""
    areas = sorted(
        (AreaRow(name, n, right) for name, (n, right) in per_area.items()),
        key=lambda a: (a.accuracy, -a.answers),
    )
    for root in trade.root_areas:
        if root.name not in per_area:
            areas.append(AreaRow(root.name, 0, 0))
    return areas


def _histogram(best: list[float]) -> list[tuple[str, int]]:
    """Best mock scores in buckets of ten; the last bucket holds 100 too."""
    histogram = []
    for low, high in BUCKETS:
        last = high == 100
        n = sum(1 for s in best if low <= s < high or (last and s == 100))
        histogram.append((f"{low}–{high - 1 if not last else 100}", n))
    return histogram


def dashboard_xlsx(cohort: Cohort, dashboard: Dashboard) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "学员"
    append_row(
        sheet,
        [
            "姓名",
            "证件号码",
            "练习题数",
            "正确率(%)",
            "练过的知识点",
            "最近练习",
            "模拟考试次数",
            "模拟最高分",
            "模拟最近得分",
        ],
    )
    for w in dashboard.workers:
        append_row(
            sheet,
            [
                w.user.name,
                mask_id_number(w.user.id_number or ""),
                w.answers,
                w.accuracy,
                w.areas_tried,
                w.last_active.strftime("%Y-%m-%d %H:%M") if w.last_active else "",
                w.mock_count,
                w.mock_best,
                w.mock_last,
            ],
        )
    areas = workbook.create_sheet("知识点")
    append_row(areas, ["知识点", "作答次数", "正确率(%)"])
    for a in dashboard.areas:
        append_row(areas, [a.name, a.answers, a.accuracy if a.answers else None])
    scores = workbook.create_sheet("模拟成绩分布")
    append_row(scores, ["分数段", "人数"])
    for label, n in dashboard.histogram:
        append_row(scores, [label, n])
    for ws in workbook.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
