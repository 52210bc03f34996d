"""Deadlines counted in working days: the office's per exam session, the bureau's per batch.

After an exam the office must make the results final within RESULTS_DEADLINE_WORKING_DAYS
(default 10) working days of the session's close, and hand the certificates to the bureau
within SUBMISSION_DEADLINE_WORKING_DAYS (default 5) more. The bureau reviews a batch by its
review_due_at. Office deadlines are whole days: a deadline falls at the end of its local
(Wenzhou) day, so "due today" never turns "late" at lunchtime.

Working days are China's, as in certify.core.workdays: Monday to Friday less the public
holidays, plus the weekend days worked in their place (调休).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from certify.certificates.models import Certificate, CertificateStatus
from certify.core import clock
from certify.core.labels import LabelledEnum
from certify.core.workdays import add_working_days, working_days_between
from certify.endorsement.models import BatchItem, BatchStatus, Decision, EndorsementBatch
from certify.exams.models import ExamSession
from certify.extensions import db
from certify.results.models import Result, ResultStatus

DEFAULT_RESULTS_DAYS = 10
DEFAULT_SUBMISSION_DAYS = 5
DUE_SOON_WORKING_DAYS = 2


class Stage(LabelledEnum):
    RESULTS = "results", _l("Results final")
    SUBMISSION = "submission", _l("Certificates submitted to the bureau")


class DeadlineState(LabelledEnum):
    LATE = "late", _l("Late")
    DUE_SOON = "due_soon", _l("Due soon")
    OPEN = "open", _l("On track")
    DONE_LATE = "done_late", _l("Done late")
    DONE = "done", _l("Done")


STAGE_LABELS = Stage.labels()
STATE_LABELS = DeadlineState.labels()
# Most urgent first: how lists are sorted and which state a session shows.
URGENCY = list(DeadlineState)
FLAGGED = frozenset({DeadlineState.LATE, DeadlineState.DUE_SOON})


# --- counting working days -------------------------------------------------------------


def _local_day(moment: date | datetime) -> date:
    return clock.local(moment).date() if isinstance(moment, datetime) else moment


def _config_days(name: str, default: int) -> int:
    """A limit from the config; a missing or unreadable value falls back to the default."""
    try:
        days = int(current_app.config.get(name, default))
    except (TypeError, ValueError):
        return default
    return max(days, 0)


def results_limit() -> int:
    return _config_days("RESULTS_DEADLINE_WORKING_DAYS", DEFAULT_RESULTS_DAYS)


def submission_limit() -> int:
    return _config_days("SUBMISSION_DEADLINE_WORKING_DAYS", DEFAULT_SUBMISSION_DAYS)


# --- one deadline ----------------------------------------------------------------------


class _Judged:
    """How a judged `state` reads and whether it is flagged, the same for one deadline as for
    a session's two (where the state is the more urgent of them)."""

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def flagged(self) -> bool:
        return self.state in FLAGGED


@dataclass(frozen=True)
class Deadline(_Judged):
    stage: Stage
    due_on: date
    done_on: date | None
    state: DeadlineState
    working_days_left: int  # negative once late; meaningless when done

    @property
    def label(self) -> str:
        return str(STAGE_LABELS[self.stage])


def judge(stage: Stage, due_on: date, done_on: date | None, today: date) -> Deadline:
    """Where one deadline stands on `today`."""
    left = working_days_between(today, due_on)
    if done_on is not None:
        state = DeadlineState.DONE if done_on <= due_on else DeadlineState.DONE_LATE
    elif today > due_on:
        state = DeadlineState.LATE
    elif left <= DUE_SOON_WORKING_DAYS:
        state = DeadlineState.DUE_SOON
    else:
        state = DeadlineState.OPEN
    return Deadline(stage, due_on, done_on, state, left)


# --- the office's deadlines per exam session -------------------------------------------


@dataclass(frozen=True)
class SessionProgress:
    """How far a session has come after the exam (what the deadlines are judged on)."""

    results: int = 0
    final: int = 0
    finalized_at: datetime | None = None
    final_passes: int = 0
    passes_without_certificate: int = 0
    certificates_waiting: int = 0  # issued, not yet handed to the bureau
    last_submitted_at: datetime | None = None

    @property
    def results_done(self) -> bool:
        return self.results > 0 and self.final == self.results

    @property
    def submission_done(self) -> bool:
        return (
            self.results_done
            and self.passes_without_certificate == 0
            and self.certificates_waiting == 0
        )


@dataclass(frozen=True)
class SessionDeadlines(_Judged):
    session: ExamSession
    closed_on: date
    working_days_since: int
    progress: SessionProgress
    results: Deadline
    submission: Deadline

    @property
    def stages(self) -> tuple[Deadline, Deadline]:
        return self.results, self.submission

    @property
    def state(self) -> DeadlineState:
        """The most urgent of the two stages."""
        return min((d.state for d in self.stages), key=URGENCY.index)

    @property
    def done(self) -> bool:
        return self.state in (DeadlineState.DONE, DeadlineState.DONE_LATE)


def deadlines_for(
    session: ExamSession, progress: SessionProgress, now: datetime | None = None
) -> SessionDeadlines:
    """Both deadlines of one session, from its close and what has been done since."""
    now = now or clock.now()
    today = clock.local(now).date()
    results_due = _local_day(add_working_days(session.closes_at, results_limit()))
    submission_due = _local_day(
        add_working_days(session.closes_at, results_limit() + submission_limit())
    )
    results_done_on = _local_day(progress.finalized_at) if progress.results_done else None
    submitted_on = None
    if progress.submission_done:
        # No passes at all: nothing to submit, so the stage ends with the results.
        moment = progress.last_submitted_at if progress.final_passes else progress.finalized_at
        submitted_on = _local_day(moment or now)
    return SessionDeadlines(
        session=session,
        closed_on=_local_day(session.closes_at),
        working_days_since=max(working_days_between(session.closes_at, now), 0),
        progress=progress,
        results=judge(Stage.RESULTS, results_due, results_done_on, today),
        submission=judge(Stage.SUBMISSION, submission_due, submitted_on, today),
    )


def session_deadlines(
    now: datetime | None = None, include_done: bool = False
) -> list[SessionDeadlines]:
    """Every closed exam session's deadlines, most urgent first (finished ones on request)."""
    now = now or clock.now()
    sessions = list(
        db.session.scalars(
            sa.select(ExamSession)
            .where(ExamSession.closes_at <= now)
            .order_by(ExamSession.closes_at, ExamSession.id)
        )
    )
    progress = session_progress([s.id for s in sessions])
    rows = [deadlines_for(s, progress.get(s.id, SessionProgress()), now) for s in sessions]
    if not include_done:
        rows = [row for row in rows if not row.done]
    return sorted(rows, key=_urgency)


def flagged_deadlines(now: datetime | None = None) -> list[SessionDeadlines]:
    """What the admin's home page warns about: late, or due within two working days."""
    return [row for row in session_deadlines(now) if row.flagged]


def _urgency(row: SessionDeadlines) -> tuple[int, date]:
    pending = [d.due_on for d in row.stages if d.done_on is None] or [row.submission.due_on]
    return URGENCY.index(row.state), min(pending)


def session_progress(session_ids: list[int]) -> dict[int, SessionProgress]:
    """Results, certificates and submissions per session, in four grouped queries."""
    if not session_ids:
        return {}
    final = Result.status == ResultStatus.FINAL
    final_pass = sa.and_(final, Result.passed.is_(True))
    results = _result_counts(session_ids, final, final_pass)
    missing = _passes_without_certificate(session_ids, final_pass)
    waiting = _certificates_waiting(session_ids)
    submitted = _last_submitted(session_ids)
    found = {}
    for session_id, total, n_final, finalized_at, passes in results:
        found[session_id] = SessionProgress(
            results=total,
            final=int(n_final or 0),
            finalized_at=finalized_at,
            final_passes=int(passes or 0),
            passes_without_certificate=missing.get(session_id, 0),
            certificates_waiting=waiting.get(session_id, 0),
            last_submitted_at=submitted.get(session_id),
        )
    return found


def _result_counts(session_ids: list[int], final, final_pass) -> sa.Result:
    """Per session: results, final ones, when the last was made final, final passes."""
    return db.session.execute(
        sa.select(
            Result.session_id,
            sa.func.count(),
            sa.func.sum(sa.case((final, 1), else_=0)),
            sa.func.max(Result.finalized_at),
            sa.func.sum(sa.case((final_pass, 1), else_=0)),
        )
        .where(Result.session_id.in_(session_ids))
        .group_by(Result.session_id)
    )


def _passes_without_certificate(session_ids: list[int], final_pass) -> dict[int, int]:
    has_certificate = sa.select(Certificate.id).where(Certificate.result_id == Result.id).exists()
    return dict(
        db.session.execute(
            sa.select(Result.session_id, sa.func.count())
            .where(Result.session_id.in_(session_ids), final_pass, ~has_certificate)
            .group_by(Result.session_id)
        ).all()
    )


def _certificates_waiting(session_ids: list[int]) -> dict[int, int]:
    """Issued certificates not yet handed to the bureau, per session."""
    return dict(
        db.session.execute(
            sa.select(Result.session_id, sa.func.count())
            .join(Certificate, Certificate.result_id == Result.id)
            .where(
                Result.session_id.in_(session_ids),
                Certificate.status == CertificateStatus.ISSUED,
            )
            .group_by(Result.session_id)
        ).all()
    )


def _last_submitted(session_ids: list[int]) -> dict[int, datetime]:
    """When a session's certificates last went to the bureau, in any batch."""
    return dict(
        db.session.execute(
            sa.select(Result.session_id, sa.func.max(EndorsementBatch.submitted_at))
            .join(Certificate, Certificate.result_id == Result.id)
            .join(BatchItem, BatchItem.certificate_id == Certificate.id)
            .join(EndorsementBatch, EndorsementBatch.id == BatchItem.batch_id)
            .where(Result.session_id.in_(session_ids))
            .group_by(Result.session_id)
        ).all()
    )


# --- the bureau's deadline per batch ---------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    batch: EndorsementBatch
    overdue: bool
    working_days_left: int
    pending: int


def review_inbox(now: datetime | None = None) -> list[InboxRow]:
    """Batches awaiting the bureau's review, the one due first on top."""
    now = now or clock.now()
    batches = db.session.scalars(
        sa.select(EndorsementBatch)
        .where(EndorsementBatch.status == BatchStatus.SUBMITTED)
        .order_by(EndorsementBatch.review_due_at, EndorsementBatch.id)
        .options(selectinload(EndorsementBatch.items))
    )
    return [
        InboxRow(
            batch=batch,
            overdue=now > batch.review_due_at,
            working_days_left=working_days_between(now, batch.review_due_at),
            pending=sum(1 for item in batch.items if item.decision is Decision.PENDING),
        )
        for batch in batches
    ]
