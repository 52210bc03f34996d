from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.accounts.models import User
from certify.catalog.models import Trade
from certify.core import clock
from certify.core.blobs import Blob
from certify.core.db_types import UTCDateTime, text_enum
from certify.core.errors import Conflict
from certify.core.labels import LabelledEnum
from certify.extensions import db


class CohortStatus(LabelledEnum):
    PLANNED = "planned", _l("Planned")
    TRAINING = "training", _l("Training")
    EXAMINING = "examining", _l("Examining")
    CLOSED = "closed", _l("Closed")


# A class moves forward only: 计划 → 培训 → 考试 → 结班.
NEXT_STATUS = {
    CohortStatus.PLANNED: CohortStatus.TRAINING,
    CohortStatus.TRAINING: CohortStatus.EXAMINING,
    CohortStatus.EXAMINING: CohortStatus.CLOSED,
}

cohort_trainers = sa.Table(
    "cohort_trainers",
    db.metadata,
    sa.Column("cohort_id", sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
)


class Cohort(db.Model):
    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    trade_id: Mapped[int] = mapped_column(sa.ForeignKey("trades.id"), index=True)
    level: Mapped[int | None] = mapped_column()
    name: Mapped[str] = mapped_column(sa.String(100))
    capacity: Mapped[int | None] = mapped_column()
    status: Mapped[CohortStatus] = mapped_column(
        text_enum(CohortStatus),
        default=CohortStatus.PLANNED,
    )
    exam_note: Mapped[str] = mapped_column(
        sa.String(200), default=""
    )  # e.g. 2026-12-12 09:00 三楼机房
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    trade: Mapped[Trade] = relationship()
    trainers: Mapped[list[User]] = relationship(secondary=cohort_trainers, order_by=User.username)
    sessions: Mapped[list[CohortSession]] = relationship(
        order_by="CohortSession.starts_at", cascade="all, delete-orphan"
    )
    enrolments: Mapped[list[Enrolment]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan"
    )

    def advance(self) -> CohortStatus:
        """Move the class to its next stage; a closed class stays closed."""
        nxt = NEXT_STATUS.get(self.status)
        if nxt is None:
            raise Conflict(_l("This class is closed."), code="cohort_closed")
        self.status = nxt
        return nxt

    def check_open_for_enrolment(self) -> None:
        if self.status is CohortStatus.CLOSED:
            raise Conflict(_l("This class is closed; nobody can be added."), code="cohort_closed")


class CohortSession(db.Model):
    """One training session of the schedule: when, where, what."""

    __tablename__ = "cohort_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    topic: Mapped[str] = mapped_column(sa.String(200), default="")

    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)


class Enrolment(db.Model):
    """A worker in a class, with the registration fields of the Zhejiang roster (花名册)."""

    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    id_type: Mapped[str] = mapped_column(sa.String(20), default="居民身份证")
    gender: Mapped[str | None] = mapped_column(sa.String(2))
    ethnicity: Mapped[str | None] = mapped_column(sa.String(16))
    education: Mapped[str | None] = mapped_column(sa.String(16))
    employer: Mapped[str] = mapped_column(sa.String(200), default="")
    source: Mapped[str | None] = mapped_column(sa.String(8))
    basis: Mapped[str] = mapped_column(sa.String(500), default="")
    years_in_trade: Mapped[int | None] = mapped_column()
    # 考生证照: the photo the ticket, the check-in and the certificate show (core/blobs.py)
    photo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("blobs.id"))
    # Eligibility notes raised at import ("4 years, level 4 asks 5"): shown, never enforced.
    flags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    cohort: Mapped[Cohort] = relationship(back_populates="enrolments")
    user: Mapped[User] = relationship()
    photo: Mapped[Blob | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("cohort_id", "user_id", name="cohort_user"),)


class EligibilityRule(db.Model):
    """申报条件 per trade and level, e.g. 四级 needs 5 years in the occupation.

    The national rules have alternatives (a lower certificate plus years, a school
    diploma), so a rule only flags a row for a person to look at; it never refuses one.
    """

    __tablename__ = "eligibility_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    trade_id: Mapped[int] = mapped_column(sa.ForeignKey("trades.id"), index=True)
    level: Mapped[int | None] = mapped_column()
    min_years: Mapped[int] = mapped_column(default=0)
    min_age: Mapped[int] = mapped_column(default=16)
    note: Mapped[str] = mapped_column(sa.String(300), default="")

    trade: Mapped[Trade] = relationship()

    __table_args__ = (sa.UniqueConstraint("trade_id", "level", name="trade_level"),)
