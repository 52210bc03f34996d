from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from certify.banks.types import FALSE_KEY, TRUE_KEY, QuestionType
from certify.catalog.models import KnowledgeArea, Trade
from certify.core import clock
from certify.core.db_types import UTCDateTime, text_enum
from certify.core.errors import Conflict
from certify.extensions import db

DIFFICULTY_LABELS = {
    1: _l("Easy"),
    2: _l("Fairly easy"),
    3: _l("Medium"),
    4: _l("Fairly hard"),
    5: _l("Hard"),
}
DEFAULT_DIFFICULTY = 3

_question_type = text_enum(QuestionType)


class QuestionStatus(enum.StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        return str(_l("Active") if self is QuestionStatus.ACTIVE else _l("Retired"))


class BankImport(db.Model):
    """One upload that added questions: where they came from, for the record."""

    __tablename__ = "bank_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    trade_id: Mapped[int] = mapped_column(sa.ForeignKey("trades.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    format: Mapped[str] = mapped_column(sa.String(16))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    imported: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    left_out: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    trade: Mapped[Trade] = relationship()
    created_by = relationship("User")


class Importance(enum.StrEnum):
    """A 鉴定点's weight class in the 细目表: X core, Y general, Z auxiliary."""

    CORE = "X"
    GENERAL = "Y"
    AUXILIARY = "Z"


class ExamPoint(db.Model):
    """One 鉴定点 of a trade's 鉴定要素细目表: a point of knowledge the bank examines, under a
    knowledge area, with its importance. Questions name it by code (QuestionVersion.point_code),
    so a reviewer can count the bank per point, as the national rules do."""

    __tablename__ = "exam_points"
    __table_args__ = (sa.UniqueConstraint("trade_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trade_id: Mapped[int] = mapped_column(sa.ForeignKey("trades.id"), index=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("knowledge_areas.id"))
    code: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(200))
    importance: Mapped[Importance] = mapped_column(text_enum(Importance, length=1))

    trade: Mapped[Trade] = relationship()
    area: Mapped[KnowledgeArea] = relationship()


class Question(db.Model):
    """A question's identity and status; its content lives in immutable-once-shown versions."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    trade_id: Mapped[int] = mapped_column(sa.ForeignKey("trades.id"), index=True)
    status: Mapped[QuestionStatus] = mapped_column(
        text_enum(QuestionStatus),
        default=QuestionStatus.ACTIVE,
    )
    version: Mapped[int] = mapped_column(default=1)  # the current version's number
    # 仅用于考试: kept out of practice and mock exams, so a worker meets it first in the exam.
    exam_only: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    import_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bank_imports.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    trade: Mapped[Trade] = relationship()
    import_batch: Mapped[BankImport | None] = relationship()
    versions: Mapped[list[QuestionVersion]] = relationship(
        back_populates="question",
        order_by="QuestionVersion.number",
        cascade="all, delete-orphan",
    )
    current: Mapped[QuestionVersion] = relationship(
        primaryjoin=lambda: sa.and_(
            Question.id == foreign(QuestionVersion.question_id),
            Question.version == foreign(QuestionVersion.number),
        ),
        viewonly=True,
        uselist=False,
    )

    def retire(self) -> None:
        if self.status is QuestionStatus.RETIRED:
            raise Conflict(_l("This question is already retired."), code="already_retired")
        self.status = QuestionStatus.RETIRED
        self.updated_at = clock.now()

    def set_exam_only(self, exam_only: bool) -> None:
        """仅用于考试 on or off. Moves updated_at, so papers drawn from now on see it."""
        if self.exam_only is exam_only:
            raise Conflict(
                _l("This question is already kept for exams only.")
                if exam_only
                else _l("This question is already open to practice."),
                code="exam_only_unchanged",
            )
        self.exam_only = exam_only
        self.updated_at = clock.now()

    def reactivate(self) -> None:
        if self.status is QuestionStatus.ACTIVE:
            raise Conflict(_l("This question is already active."), code="already_active")
        self.status = QuestionStatus.ACTIVE
        self.updated_at = clock.now()


class QuestionVersion(db.Model):
    """What a candidate saw. Once an attempt shows a version it is never changed again."""

    __tablename__ = "question_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(default=1)
    type: Mapped[QuestionType] = mapped_column(_question_type)
    stem: Mapped[str] = mapped_column(sa.Text)
    # [{"key": "A", "text": "…"}]; keys are the options' ids for good, whatever order is shown.
    options: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    correct: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("knowledge_areas.id"), index=True)
    difficulty: Mapped[int] = mapped_column(default=DEFAULT_DIFFICULTY)
    explanation: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(200), default="")
    # The 鉴定点 it examines (鉴定点代码, e.g. 03-02-01), from the trade's 细目表; "" for none.
    point_code: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    title: Mapped[str] = mapped_column(sa.String(255), default="")
    fingerprint: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    question: Mapped[Question] = relationship(back_populates="versions")
    area: Mapped[KnowledgeArea] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("question_id", "number", name="question_number"),
        sa.CheckConstraint("difficulty BETWEEN 1 AND 5", name="difficulty_range"),
    )

    @staticmethod
    def keys_of(kind: QuestionType, options: list[dict[str, Any]]) -> frozenset[str]:
        """The option ids a candidate may send for a question of this kind."""
        if kind is QuestionType.TRUE_FALSE:
            return frozenset((TRUE_KEY, FALSE_KEY))
        return frozenset(o["key"] for o in options)

    @staticmethod
    def options_shown(kind: QuestionType, options: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Options as shown, with true/false spelled out in the reader's language."""
        if kind is QuestionType.TRUE_FALSE:
            return [
                {"key": TRUE_KEY, "text": str(_l("True"))},
                {"key": FALSE_KEY, "text": str(_l("False"))},
            ]
        return options

    @property
    def display_options(self) -> list[dict[str, Any]]:
        return self.options_shown(self.type, self.options)

    @property
    def answer_text(self) -> str:
        if self.type is QuestionType.TRUE_FALSE:
            return str(_l("True") if self.correct == [TRUE_KEY] else _l("False"))
        return "".join(self.correct)

    @property
    def difficulty_label(self) -> str:
        return str(DIFFICULTY_LABELS.get(self.difficulty, ""))


class ExamBlueprint(db.Model):
    """组卷规则: how a paper for one trade and level is drawn from the bank."""

    __tablename__ = "exam_blueprints"

    id: Mapped[int] = mapped_column(primary_key=True)
    trade_id: Mapped[int] = mapped_column(sa.ForeignKey("trades.id"), index=True)
    level: Mapped[int | None] = mapped_column()  # None for a 专项 trade
    name: Mapped[str] = mapped_column(sa.String(100))
    duration_minutes: Mapped[int] = mapped_column(default=90)
    pass_mark: Mapped[int] = mapped_column(default=60)
    # {"1": 20, "2": 30, …} percent of questions per difficulty; empty means no constraint.
    difficulty_mix: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    trade: Mapped[Trade] = relationship()
    sections: Mapped[list[BlueprintSection]] = relationship(
        order_by="BlueprintSection.position", cascade="all, delete-orphan"
    )
    quotas: Mapped[list[BlueprintQuota]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("trade_id", "level", "name", name="trade_level_name"),
        sa.CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark_range"),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )

    @property
    def total_points(self) -> Decimal:
        return sum((s.total_points for s in self.sections), Decimal(0))

    @property
    def question_count(self) -> int:
        return sum(s.count for s in self.sections)


class BlueprintSection(db.Model):
    """e.g. 判断题 60 × 0.5 points."""

    __tablename__ = "blueprint_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    blueprint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("exam_blueprints.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(default=0)
    question_type: Mapped[QuestionType] = mapped_column(_question_type)
    count: Mapped[int] = mapped_column()
    # Points are kept in hundredths so 0.5 and 1.5 stay exact on every engine.
    points_hundredths: Mapped[int] = mapped_column()

    __table_args__ = (
        sa.CheckConstraint("count > 0", name="count_positive"),
        sa.CheckConstraint("points_hundredths > 0", name="points_positive"),
    )

    @property
    def points(self) -> Decimal:
        return Decimal(self.points_hundredths) / 100

    @property
    def total_points(self) -> Decimal:
        return self.points * self.count


class BlueprintQuota(db.Model):
    """A knowledge area's share of every section, in percent (the 权重表)."""

    __tablename__ = "blueprint_quotas"

    blueprint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("exam_blueprints.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("knowledge_areas.id"), primary_key=True)
    weight: Mapped[int] = mapped_column()

    area: Mapped[KnowledgeArea] = relationship()

    __table_args__ = (sa.CheckConstraint("weight BETWEEN 1 AND 100", name="weight_range"),)
