from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.accounts.models import User
from certify.banks.models import ExamBlueprint, QuestionVersion
from certify.cohorts.models import Cohort
from certify.core import clock
from certify.core.db_types import UTCDateTime, text_enum
from certify.core.errors import Conflict
from certify.core.labels import LabelledEnum
from certify.extensions import db


class ExamSession(db.Model):
    """考试场次: a class sits the level's paper between opening and closing time."""

    __tablename__ = "exam_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id"), index=True)
    blueprint_id: Mapped[int] = mapped_column(sa.ForeignKey("exam_blueprints.id"))
    name: Mapped[str] = mapped_column(sa.String(100))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column()
    access_code: Mapped[str | None] = mapped_column(sa.String(12))
    departure_limit: Mapped[int | None] = mapped_column()  # auto-submit after N departures
    # The 公示 page's address: random, so nobody can walk through other sessions' lists.
    publicity_token: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    cohort: Mapped[Cohort] = relationship()
    blueprint: Mapped[ExamBlueprint] = relationship()
    overrides: Mapped[list[SessionOverride]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )

    def override_for(self, user_id: int) -> SessionOverride | None:
        return next((o for o in self.overrides if o.user_id == user_id), None)

    def window_still_open(self, now: datetime) -> bool:
        """The session, or a worker's own later window (extra time, a re-sit), is still open."""
        if self.closes_at > now:
            return True
        return any(o.closes_at is not None and o.closes_at > now for o in self.overrides)

    def window_for(self, user_id: int) -> tuple[datetime, datetime, int]:
        """(opens, closes, extra minutes) for one worker, overrides applied."""
        override = self.override_for(user_id)
        if override is None:
            return self.opens_at, self.closes_at, 0
        return (
            override.opens_at or self.opens_at,
            override.closes_at or self.closes_at,
            override.extra_minutes,
        )


class SessionOverride(db.Model):
    """Extra time, or a later window for a re-sit (补考), for one worker."""

    __tablename__ = "session_overrides"

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("exam_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    extra_minutes: Mapped[int] = mapped_column(default=0)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(sa.String(200), default="")


class AttemptStatus(LabelledEnum):
    IN_PROGRESS = "in_progress", _l("In progress")
    SUBMITTED = "submitted", _l("Handed in")
    EXPIRED = "expired", _l("Time ran out")
    GRADED = "graded", _l("Graded")


class Attempt(db.Model):
    """One worker's sitting of one session: a frozen paper, a server deadline, saved answers."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("exam_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[AttemptStatus] = mapped_column(
        text_enum(AttemptStatus), default=AttemptStatus.IN_PROGRESS
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    score_hundredths: Mapped[int | None] = mapped_column()
    max_hundredths: Mapped[int] = mapped_column(default=10000)
    by_area: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    departures: Mapped[int] = mapped_column(default=0)

    session: Mapped[ExamSession] = relationship()
    user: Mapped[User] = relationship()
    items: Mapped[list[AttemptItem]] = relationship(
        order_by="AttemptItem.position", cascade="all, delete-orphan"
    )
    answers: Mapped[list[AttemptAnswer]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (sa.UniqueConstraint("session_id", "user_id", name="one_per_worker"),)

    @property
    def score(self) -> float | None:
        return None if self.score_hundredths is None else self.score_hundredths / 100

    @property
    def is_open(self) -> bool:
        return self.status is AttemptStatus.IN_PROGRESS

    def accepts_answers_at(self, at: datetime) -> bool:
        return self.is_open and at < self.deadline

    def status_at(self, at: datetime) -> AttemptStatus:
        """As a reader sees it at `at`: an open paper whose time is up reads as time up
        before the schedule (or the worker's own page) hands it in."""
        return AttemptStatus.EXPIRED if self.is_open and at >= self.deadline else self.status

    def ended_at_as_of(self, at: datetime) -> datetime | None:
        """When the paper ended, as a reader sees it at `at`: one that ran out ended at its
        deadline, whenever the schedule notes it."""
        if self.ended_at is not None or self.status_at(at) is not AttemptStatus.EXPIRED:
            return self.ended_at
        return self.deadline

    def ending(self, status: AttemptStatus, at: datetime) -> sa.Update:
        """in_progress → submitted | expired, as one guarded UPDATE: it changes the row only
        while it is still in progress, so of two requests ending the paper at once (a submit
        and the schedule's expiry, two taps on 交卷) one wins, rowcount 1, and the other finds
        nothing to change. A paper handed in ends at `at`; one that ran out ends at its
        deadline, however late it is noticed."""
        if status not in (AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED):
            raise ValueError(status)
        ended_at = min(at, self.deadline) if status is AttemptStatus.EXPIRED else at
        return (
            sa.update(Attempt)
            .where(Attempt.id == self.id, Attempt.status == AttemptStatus.IN_PROGRESS)
            .values(status=status, ended_at=ended_at)
            .execution_options(synchronize_session=False)
        )

    def mark_graded(self, at: datetime) -> None:
        if self.status not in (AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED):
            raise Conflict(_l("Only a handed-in exam can be graded."), code="not_ended")
        self.status = AttemptStatus.GRADED
        self.graded_at = at


class AttemptItem(db.Model):
    """A question of the frozen paper: the exact version shown and its option order."""

    __tablename__ = "attempt_items"

    attempt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id"))
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("question_versions.id"), index=True)
    points_hundredths: Mapped[int] = mapped_column()
    option_order: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    earned_hundredths: Mapped[int | None] = mapped_column()

    version: Mapped[QuestionVersion] = relationship()

    __table_args__ = (sa.UniqueConstraint("attempt_id", "question_id", name="question_once"),)


class AttemptAnswer(db.Model):
    """The latest saved choice for one question; written on every autosave."""

    __tablename__ = "attempt_answers"

    attempt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id"), primary_key=True)
    chosen: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProctorEvent(db.Model):
    """Leaving the exam page and the like, shown to examiners."""

    __tablename__ = "proctor_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class AccessCodeLock(db.Model):
    """Wrong access codes one worker typed for one session; locked after too many."""

    __tablename__ = "access_code_locks"

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("exam_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
