"""Submission batches (提交人社备案) and the bureau's decision on each certificate in them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.accounts.models import User
from certify.certificates.models import Certificate
from certify.core import clock
from certify.core.db_types import UTCDateTime, text_enum
from certify.core.errors import Conflict
from certify.core.labels import LabelledEnum
from certify.exams.models import ExamSession
from certify.extensions import db


class BatchStatus(LabelledEnum):
    SUBMITTED = "submitted", _l("Awaiting review")
    DECIDED = "decided", _l("Decided")


class Decision(LabelledEnum):
    PENDING = "pending", _l("Not decided yet")
    ENDORSED = "endorsed", _l("Endorsed")
    REJECTED = "rejected", _l("Rejected")


BATCH_STATUS_LABELS = BatchStatus.labels()
DECISION_LABELS = Decision.labels()


class EndorsementBatch(db.Model):
    """Certificates handed to the bureau together, with the package they were sent in.

    Submitted → decided, once every certificate in it has the bureau's decision.
    """

    __tablename__ = "endorsement_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(24), unique=True)  # e.g. PB2026-0001
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("exam_sessions.id"), index=True)
    status: Mapped[BatchStatus] = mapped_column(
        text_enum(BatchStatus), default=BatchStatus.SUBMITTED
    )
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    review_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(sa.Text, default="")
    package_path: Mapped[str] = mapped_column(sa.String(255), default="")
    package_sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    manifest_key_id: Mapped[str] = mapped_column(sa.String(16), default="")
    manifest_signature: Mapped[str] = mapped_column(sa.String(128), default="")
    # The audit trail's head when the package was signed: the bureau holds it, so a later
    # rewrite of any entry up to it is detectable (`audit verify --against PACKAGE.zip`).
    audit_head_id: Mapped[int | None] = mapped_column()
    audit_head_hash: Mapped[str | None] = mapped_column(sa.String(64))

    submitted_by: Mapped[User] = relationship(foreign_keys=[submitted_by_id])
    session: Mapped[ExamSession | None] = relationship()
    items: Mapped[list[BatchItem]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="BatchItem.id"
    )

    def __repr__(self) -> str:
        return f"<EndorsementBatch {self.reference} {self.status}>"

    @property
    def status_label(self) -> str:
        return str(BATCH_STATUS_LABELS[self.status])

    def counts(self) -> dict[Decision, int]:
        found = {decision: 0 for decision in Decision}
        for item in self.items:
            found[item.decision] += 1
        return found

    def close_if_complete(self, at: datetime) -> bool:
        """Mark the batch decided once nothing in it is pending. True when it closed now."""
        if self.status is BatchStatus.DECIDED:
            return False
        if any(item.decision is Decision.PENDING for item in self.items):
            return False
        self.status, self.decided_at = BatchStatus.DECIDED, at
        return True


class BatchItem(db.Model):
    """One certificate of a batch and the reviewer's signed decision on it."""

    __tablename__ = "endorsement_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("endorsement_batches.id", ondelete="CASCADE"), index=True
    )
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64))  # what the bureau was shown
    decision: Mapped[Decision] = mapped_column(text_enum(Decision), default=Decision.PENDING)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_key_id: Mapped[str] = mapped_column(sa.String(16), default="")
    decision_signature: Mapped[str] = mapped_column(sa.String(128), default="")

    batch: Mapped[EndorsementBatch] = relationship(back_populates="items")
    certificate: Mapped[Certificate] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (sa.UniqueConstraint("batch_id", "certificate_id", name="once_per_batch"),)

    def decide(self, decision: Decision, reviewer: User, at: datetime, reason: str = "") -> None:
        if self.decision is not Decision.PENDING:
            raise Conflict(
                _l("Certificate %(number)s is already decided.", number=self.certificate.number),
                code="already_decided",
            )
        if decision is Decision.PENDING:
            raise Conflict(_l("Choose endorse or reject."), code="no_decision")
        self.decision, self.decided_by, self.decided_at = decision, reviewer, at
        self.reason = reason
