"""认定公告 and 报名: what is announced, who applied, and where each application stands.

An announcement is drafted, opened (applications accepted between its dates) and closed. An
application is 待审核 until the office approves it into a class or returns it with the reason
and what to fix; a returned application is corrected and resubmitted by its applicant (件件
有回音), an approved one is final.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.accounts.models import User
from certify.catalog.models import Trade
from certify.cohorts.models import Cohort, Enrolment
from certify.core import clock
from certify.core.blobs import Blob
from certify.core.db_types import UTCDateTime, text_enum
from certify.core.errors import Conflict
from certify.core.labels import LabelledEnum
from certify.extensions import db


class AnnouncementStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    OPEN = "open", _l("Open for applications")
    CLOSED = "closed", _l("Closed")


class Announcement(db.Model):
    """认定公告: a trade and level, the dates applications are taken, and the conditions."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    trade_id: Mapped[int] = mapped_column(sa.ForeignKey("trades.id"), index=True)
    level: Mapped[int | None] = mapped_column()
    title: Mapped[str] = mapped_column(sa.String(200))
    conditions: Mapped[str] = mapped_column(sa.Text, default="")  # 申报条件, fees, materials
    exam_note: Mapped[str] = mapped_column(sa.String(300), default="")  # when and where, roughly
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the class approved applicants join unless the reviewer picks another
    cohort_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="SET NULL"))
    status: Mapped[AnnouncementStatus] = mapped_column(
        text_enum(AnnouncementStatus), default=AnnouncementStatus.DRAFT
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    trade: Mapped[Trade] = relationship()
    cohort: Mapped[Cohort | None] = relationship()

    def accepting(self, at: datetime) -> bool:
        return self.status is AnnouncementStatus.OPEN and self.opens_at <= at < self.closes_at

    def open(self) -> None:
        if self.status is not AnnouncementStatus.DRAFT:
            raise Conflict(_l("Only a draft announcement can be opened."), code="not_draft")
        self.status = AnnouncementStatus.OPEN

    def close(self) -> None:
        if self.status is not AnnouncementStatus.OPEN:
            raise Conflict(_l("Only an open announcement can be closed."), code="not_open")
        self.status = AnnouncementStatus.CLOSED


class ApplicationStatus(LabelledEnum):
    PENDING = "pending", _l("Waiting for review")
    APPROVED = "approved", _l("Approved")
    RETURNED = "returned", _l("Returned for correction")


class Application(db.Model):
    """报名表: the Zhejiang registration fields, the photo, and the review's outcome."""

    __tablename__ = "applications"
    __table_args__ = (sa.UniqueConstraint("announcement_id", "id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        sa.ForeignKey("announcements.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(sa.String(24), unique=True)  # the applicant's key
    name: Mapped[str] = mapped_column(sa.String(30))
    id_type: Mapped[str] = mapped_column(sa.String(20))
    id_number: Mapped[str] = mapped_column(sa.String(20))
    gender: Mapped[str | None] = mapped_column(sa.String(2))
    ethnicity: Mapped[str | None] = mapped_column(sa.String(16))
    education: Mapped[str | None] = mapped_column(sa.String(16))
    phone: Mapped[str] = mapped_column(sa.String(11))
    employer: Mapped[str] = mapped_column(sa.String(200), default="")
    source: Mapped[str | None] = mapped_column(sa.String(8))
    basis: Mapped[str] = mapped_column(sa.String(500), default="")  # 申报条件, as chosen
    years_in_trade: Mapped[int | None] = mapped_column()
    address: Mapped[str] = mapped_column(sa.String(200), default="")  # 通讯地址
    photo_id: Mapped[int] = mapped_column(sa.ForeignKey("blobs.id"))
    status: Mapped[ApplicationStatus] = mapped_column(
        text_enum(ApplicationStatus), default=ApplicationStatus.PENDING
    )
    return_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    times_submitted: Mapped[int] = mapped_column(default=1)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    enrolment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="SET NULL")
    )

    announcement: Mapped[Announcement] = relationship()
    photo: Mapped[Blob] = relationship()
    reviewed_by: Mapped[User | None] = relationship()
    enrolment: Mapped[Enrolment | None] = relationship()

    def approve(self, enrolment: Enrolment, by: User, at: datetime) -> None:
        self._check_pending()
        self.status = ApplicationStatus.APPROVED
        self.enrolment = enrolment
        self.return_reason = ""
        self.reviewed_by, self.reviewed_at = by, at

    def send_back(self, reason: str, by: User, at: datetime) -> None:
        self._check_pending()
        self.status = ApplicationStatus.RETURNED
        self.return_reason = reason
        self.reviewed_by, self.reviewed_at = by, at

    def resubmit(self, at: datetime) -> None:
        if self.status is not ApplicationStatus.RETURNED:
            raise Conflict(_l("Only a returned application can be corrected."), code="not_returned")
        self.status = ApplicationStatus.PENDING
        self.submitted_at = at
        self.times_submitted += 1

    def _check_pending(self) -> None:
        if self.status is not ApplicationStatus.PENDING:
            raise Conflict(_l("This application was already reviewed."), code="already_reviewed")
