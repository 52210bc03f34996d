"""The proctor's board of one exam session: who has started, who is writing, who handed in.

On an exam day of thousands the office and the proctors reload this page through the
exam, on phones, while the workers write. So it counts in the database, filters and pages
there, and reads one page of workers with their attempts in two queries: a page of 2,000
rows with a lazy load per row would take seconds of the server the exam runs on.

It only reads. A paper whose time is up counts as handed in at once (Attempt.status_at), and
the schedule (`exams expire-overdue`, every minute) grades it; the board never grades a hall
of papers inside a proctor's page view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination

from certify.accounts.models import User
from certify.cohorts.models import Enrolment
from certify.core.labels import LabelledEnum
from certify.exams.models import Attempt, AttemptStatus, ExamSession
from certify.extensions import db

PER_PAGE = 100
HANDED_IN = (AttemptStatus.SUBMITTED, AttemptStatus.GRADED, AttemptStatus.EXPIRED)


class BoardFilter(LabelledEnum):
    ALL = "all", _l("Enrolled")
    NOT_STARTED = "not_started", _l("Not started")
    WRITING = "writing", _l("Writing")
    HANDED_IN = "handed_in", _l("Handed in")
    LEFT_PAGE = "left_page", _l("Left the page")


@dataclass(frozen=True)
class BoardRow:
    worker: User
    attempt: Attempt | None
    now: datetime

    @property
    def status(self) -> AttemptStatus | None:
        return self.attempt.status_at(self.now) if self.attempt else None


@dataclass(frozen=True)
class Board:
    counts: dict[BoardFilter, int]
    pagination: Pagination
    rows: list[BoardRow]


def parse_filter(value: str | None) -> BoardFilter:
    """The `state` query argument; anything unknown shows everyone."""
    return BoardFilter(value) if value in set(BoardFilter) else BoardFilter.ALL


def _writing(now: datetime):
    return sa.and_(Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline > now)


def _handed_in(now: datetime):
    """Handed in, or open with its time up (the schedule hands it in within the minute)."""
    return sa.or_(
        Attempt.status.in_(HANDED_IN),
        sa.and_(Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline <= now),
    )


def _matching(exam: ExamSession, state: BoardFilter, name: str, now: datetime) -> sa.Select:
    on_paper = sa.and_(Attempt.user_id == User.id, Attempt.session_id == exam.id)
    query = (
        sa.select(User)
        .join(Enrolment, Enrolment.user_id == User.id)
        .outerjoin(Attempt, on_paper)
        .where(Enrolment.cohort_id == exam.cohort_id)
        .order_by(User.name, User.id)
    )
    if name:
        like = f"%{name}%"
        query = query.where(sa.or_(User.name.ilike(like), User.username.ilike(like)))
    condition = {
        BoardFilter.ALL: None,
        BoardFilter.NOT_STARTED: Attempt.id.is_(None),
        BoardFilter.WRITING: _writing(now),
        BoardFilter.HANDED_IN: _handed_in(now),
        BoardFilter.LEFT_PAGE: Attempt.departures > 0,
    }[state]
    return query if condition is None else query.where(condition)


def count_board(exam: ExamSession, now: datetime) -> dict[BoardFilter, int]:
    enrolled = db.session.scalar(
        sa.select(sa.func.count()).where(Enrolment.cohort_id == exam.cohort_id)
    )
    started, writing, left = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(_writing(now)),
            sa.func.count().filter(Attempt.departures > 0),
        ).where(Attempt.session_id == exam.id)
    ).one()
    return {
        BoardFilter.ALL: enrolled or 0,
        BoardFilter.NOT_STARTED: max(0, (enrolled or 0) - started),
        BoardFilter.WRITING: writing,
        BoardFilter.HANDED_IN: started - writing,
        BoardFilter.LEFT_PAGE: left,
    }


def read_board(exam: ExamSession, state: BoardFilter, name: str, page: int, now: datetime) -> Board:
    """One page of the session's workers in `state` whose name or username holds `name`."""
    pagination = db.paginate(
        _matching(exam, state, name, now), page=page, per_page=PER_PAGE, error_out=False
    )
    workers = list(pagination.items)
    attempts = {
        a.user_id: a
        for a in db.session.scalars(
            sa.select(Attempt).where(
                Attempt.session_id == exam.id, Attempt.user_id.in_([w.id for w in workers])
            )
        )
    }
    rows = [BoardRow(w, attempts.get(w.id), now) for w in workers]
    return Board(count_board(exam, now), pagination, rows)
