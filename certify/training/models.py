from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.accounts.models import User
from certify.banks.models import ExamBlueprint, Question, QuestionVersion
from certify.catalog.models import KnowledgeArea, Trade
from certify.core import clock
from certify.core.db_types import UTCDateTime, text_enum
from certify.core.errors import Conflict
from certify.extensions import db
from certify.training.review import reviewed


class MaterialKind(enum.StrEnum):
    FILE = "file"
    LINK = "link"


class Material(db.Model):
    """A training material: an uploaded PDF or image, or a link, for a trade or one class."""

    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    trade_id: Mapped[int] = mapped_column(sa.ForeignKey("trades.id"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("knowledge_areas.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[MaterialKind] = mapped_column(text_enum(MaterialKind, length=8))
    url: Mapped[str] = mapped_column(sa.String(500), default="")
    filename: Mapped[str] = mapped_column(sa.String(255), default="")
    mime: Mapped[str] = mapped_column(sa.String(64), default="")
    size: Mapped[int] = mapped_column(default=0)
    storage_key: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    trade: Mapped[Trade] = relationship()
    area: Mapped[KnowledgeArea | None] = relationship()


class PracticeAnswer(db.Model):
    """One practice answer: what the worker chose and whether it was right."""

    __tablename__ = "practice_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id"))
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("question_versions.id"))
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("knowledge_areas.id"))
    chosen: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    correct: Mapped[bool] = mapped_column()
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    __table_args__ = (sa.Index("ix_practice_answers_user_area", "user_id", "area_id"),)


class WrongBookEntry(db.Model):
    """错题本: a question the worker missed, how often, and whether they now know it."""

    __tablename__ = "wrong_book"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id"), primary_key=True)
    miss_count: Mapped[int] = mapped_column(default=0)
    last_missed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    mastered: Mapped[bool] = mapped_column(default=False)
    mastered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # FSRS: when the question is due again, and the card the schedule keeps (training/review.py)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    card: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    question: Mapped[Question] = relationship()

    def record_miss(self, at: datetime) -> None:
        self.miss_count += 1
        self.last_missed_at = at
        self.mastered = False  # missing it again means it is not mastered
        self.mastered_at = None
        self.card, self.due_at = reviewed(self.card, remembered=False, at=at)

    def record_recall(self, at: datetime) -> None:
        """Answered right in practice: it comes back later than last time."""
        self.card, self.due_at = reviewed(self.card, remembered=True, at=at)

    def mark_mastered(self, at: datetime) -> None:
        self.mastered = True
        self.mastered_at = at


class MockAttempt(db.Model):
    """模拟考试: the level's real blueprint, timed and graded, never counted as a result."""

    __tablename__ = "mock_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="SET NULL"))
    blueprint_id: Mapped[int] = mapped_column(sa.ForeignKey("exam_blueprints.id"))
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    answers: Mapped[dict[str, list[str]]] = mapped_column(sa.JSON, default=dict)  # position → keys
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    score_hundredths: Mapped[int | None] = mapped_column()
    max_hundredths: Mapped[int] = mapped_column(default=10000)
    by_area: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)

    blueprint: Mapped[ExamBlueprint] = relationship()
    user: Mapped[User] = relationship()
    items: Mapped[list[MockPaperItem]] = relationship(
        order_by="MockPaperItem.position", cascade="all, delete-orphan"
    )

    @property
    def finished(self) -> bool:
        return self.submitted_at is not None

    @property
    def score(self) -> float | None:
        return None if self.score_hundredths is None else self.score_hundredths / 100

    def check_open(self, at: datetime) -> None:
        if self.finished:
            raise Conflict("submitted", code="attempt_submitted")
        if at >= self.deadline:
            raise Conflict("past deadline", code="past_deadline")


class MockPaperItem(db.Model):
    """A question of a mock paper, frozen at the start. It refers to the exact version shown,
    so editing that question afterwards makes a new version (banks.services.version_was_shown)."""

    __tablename__ = "mock_paper_items"

    attempt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mock_attempts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("question_versions.id"), index=True)
    points_hundredths: Mapped[int] = mapped_column()
    option_order: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    version: Mapped[QuestionVersion] = relationship()
