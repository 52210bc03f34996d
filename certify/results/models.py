"""Results: practical scores, the pass decision, publicity (公示) and objections (异议)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.accounts.models import User
from certify.core import clock
from certify.core.db_types import UTCDateTime, text_enum
from certify.core.errors import Conflict
from certify.core.labels import LabelledEnum
from certify.exams.models import ExamSession
from certify.extensions import db


class PracticalScore(db.Model):
    """One examiner's score of one worker's practical part (操作技能), out of 100."""

    __tablename__ = "practical_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("exam_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    examiner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    score_hundredths: Mapped[int] = mapped_column()
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    examiner: Mapped[User] = relationship(foreign_keys=[examiner_id])

    __table_args__ = (
        sa.UniqueConstraint("session_id", "user_id", "examiner_id", name="one_per_examiner"),
        sa.CheckConstraint("score_hundredths BETWEEN 0 AND 10000", name="score_range"),
    )


class ResultStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    PUBLISHED = "published", _l("In publicity")  # 公示
    FINAL = "final", _l("Final")


class Outcome(LabelledEnum):
    PASSED = "passed", _l("Passed")  # 合格: proposed for certification (拟发证)
    FAILED = "failed", _l("Not passed")  # 不合格
    ABSENT = "absent", _l("Absent")  # 缺考: never sat

    @property
    def chinese(self) -> str:
        """As written in the records the bureau receives, whatever the page's language."""
        return {"passed": "合格", "failed": "不合格", "absent": "缺考"}[self.value]


class ScoreParts:
    """The theory and practical scores, kept in hundredths and read in points: a result, and
    the certificate that copies them."""

    theory_hundredths: int | None
    practical_hundredths: int | None

    @property
    def theory(self) -> float | None:
        return None if self.theory_hundredths is None else self.theory_hundredths / 100

    @property
    def practical(self) -> float | None:
        return None if self.practical_hundredths is None else self.practical_hundredths / 100


class Result(ScoreParts, db.Model):
    """A worker's outcome of a session: the components and the pass decision."""

    __tablename__ = "results"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("exam_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    theory_hundredths: Mapped[int | None] = mapped_column()
    practical_hundredths: Mapped[int | None] = mapped_column()
    passed: Mapped[bool] = mapped_column(default=False)
    # 缺考: never started the exam (theory trades) or, for a practical-only trade, never
    # scored. Not a failure: the records the bureau receives tell the two apart.
    absent: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    status: Mapped[ResultStatus] = mapped_column(
        text_enum(ResultStatus), default=ResultStatus.DRAFT
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    publicity_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
    session: Mapped[ExamSession] = relationship()
    objections: Mapped[list[Objection]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (sa.UniqueConstraint("session_id", "user_id", name="one_result"),)

    @property
    def outcome(self) -> Outcome:
        if self.absent:
            return Outcome.ABSENT
        return Outcome.PASSED if self.passed else Outcome.FAILED

    def publish(self, at: datetime, ends: datetime) -> None:
        if self.status is not ResultStatus.DRAFT:
            raise Conflict(_l("These results are already published."), code="already_published")
        self.status, self.published_at, self.publicity_ends_at = ResultStatus.PUBLISHED, at, ends

    def finalize(self, at: datetime) -> None:
        if self.status is not ResultStatus.PUBLISHED:
            raise Conflict(_l("Only published results can become final."), code="not_published")
        if self.publicity_ends_at is not None and at < self.publicity_ends_at:
            raise Conflict(_l("The publicity period has not ended yet."), code="publicity_running")
        self.status, self.finalized_at = ResultStatus.FINAL, at


class Objection(db.Model):
    """An objection raised during publicity (异议), and how it was settled."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(sa.ForeignKey("results.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolution: Mapped[str] = mapped_column(sa.Text, default="")
