"""Certificates, the serial counters that number them, and the keys that sign them."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.accounts.models import User
from certify.core import clock
from certify.core.db_types import UTCDateTime, text_enum
from certify.core.errors import Conflict
from certify.extensions import db


class CertificateStatus(enum.StrEnum):
    ISSUED = "issued"
    SUBMITTED = "submitted"  # to the HR bureau for endorsement
    ENDORSED = "endorsed"
    REJECTED = "rejected"
    REVOKED = "revoked"


STATUS_LABELS = {
    CertificateStatus.ISSUED: _l("Issued"),
    CertificateStatus.SUBMITTED: _l("Awaiting endorsement"),
    CertificateStatus.ENDORSED: _l("Endorsed"),
    CertificateStatus.REJECTED: _l("Rejected"),
    CertificateStatus.REVOKED: _l("Revoked"),
}

# Where each status may go next; revoking is allowed from every state but revoked.
TRANSITIONS = {
    CertificateStatus.ISSUED: {CertificateStatus.SUBMITTED, CertificateStatus.REVOKED},
    CertificateStatus.SUBMITTED: {
        CertificateStatus.ENDORSED,
        CertificateStatus.REJECTED,
        CertificateStatus.REVOKED,
    },
    CertificateStatus.ENDORSED: {CertificateStatus.REVOKED},
    CertificateStatus.REJECTED: {CertificateStatus.REVOKED},
    CertificateStatus.REVOKED: set(),
}


class Certificate(db.Model):
    """One issued certificate. Its material fields are copies, frozen at issue.

    The holder's record may change later (a corrected name, a new phone); the certificate
    must keep saying what it said when it was signed. A correction is a re-issue: a new
    certificate, with a new number, that supersedes this one.
    """

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    result_id: Mapped[int] = mapped_column(sa.ForeignKey("results.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    trade_id: Mapped[int] = mapped_column(sa.ForeignKey("trades.id"), index=True)
    certificate_type: Mapped[str] = mapped_column(sa.String(16))
    level: Mapped[int | None] = mapped_column()
    holder_name: Mapped[str] = mapped_column(sa.String(64))
    id_type: Mapped[str] = mapped_column(sa.String(20))
    id_number: Mapped[str] = mapped_column(sa.String(18), index=True)
    trade_name: Mapped[str] = mapped_column(sa.String(64))
    level_name: Mapped[str] = mapped_column(sa.String(64))
    issuer_name: Mapped[str] = mapped_column(sa.String(128))
    issued_on: Mapped[date] = mapped_column(sa.Date)
    theory_hundredths: Mapped[int | None] = mapped_column()
    practical_hundredths: Mapped[int | None] = mapped_column()

    # Which fields the signature covers (certificates/signing.py): 1 the identity fields,
    # 2 everything printed. Old certificates keep verifying under the version they carry.
    payload_version: Mapped[int] = mapped_column(default=1, server_default="1")
    key_id: Mapped[str] = mapped_column(sa.String(16))
    signature: Mapped[str] = mapped_column(sa.String(128))
    pdf_path: Mapped[str] = mapped_column(sa.String(255))
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    pdf_bytes: Mapped[int] = mapped_column()

    status: Mapped[CertificateStatus] = mapped_column(
        text_enum(CertificateStatus), default=CertificateStatus.ISSUED
    )
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    endorsed_by: Mapped[str | None] = mapped_column(sa.String(128))
    endorsed_on: Mapped[date | None] = mapped_column(sa.Date)
    rejected_reason: Mapped[str | None] = mapped_column(sa.Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(sa.Text)  # internal, free text
    revoked_reason_code: Mapped[str | None] = mapped_column(sa.String(32))  # shown publicly
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"))
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    holder: Mapped[User] = relationship(foreign_keys=[user_id])
    supersedes: Mapped[Certificate | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Certificate {self.number} {self.status}>"

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def theory(self) -> float | None:
        return None if self.theory_hundredths is None else self.theory_hundredths / 100

    @property
    def practical(self) -> float | None:
        return None if self.practical_hundredths is None else self.practical_hundredths / 100

    @property
    def is_revoked(self) -> bool:
        return self.status is CertificateStatus.REVOKED

    def material(self) -> dict[str, str]:
        """The fields the signature covers: what an employer relies on."""
        return {
            "number": self.number,
            "holder": self.holder_name,
            "id_type": self.id_type,
            "id_number": self.id_number,
            "trade": self.trade_name,
            "level": self.level_name,
            "issuer": self.issuer_name,
            "issued_on": self.issued_on.isoformat(),
        }

    def _move(self, to: CertificateStatus, at: datetime) -> None:
        if to not in TRANSITIONS[self.status]:
            raise Conflict(
                _l(
                    "A certificate that is %(now)s cannot become %(to)s.",
                    now=STATUS_LABELS[self.status],
                    to=STATUS_LABELS[to],
                ),
                code="illegal_certificate_transition",
            )
        self.status, self.status_changed_at = to, at

    def submit(self, at: datetime) -> None:
        self._move(CertificateStatus.SUBMITTED, at)

    def endorse(self, body: str, at: datetime) -> None:
        self._move(CertificateStatus.ENDORSED, at)
        self.endorsed_by, self.endorsed_on = body, clock.local(at).date()

    def reject(self, reason: str, at: datetime) -> None:
        self._move(CertificateStatus.REJECTED, at)
        self.rejected_reason = reason

    def revoke(self, reason: str, at: datetime) -> None:
        self._move(CertificateStatus.REVOKED, at)
        self.revoked_at, self.revoked_reason = at, reason


class CertificateSerial(db.Model):
    """The last serial used under one number prefix. Serials only ever go up."""

    __tablename__ = "certificate_serials"

    prefix: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    last_serial: Mapped[int] = mapped_column(default=0)


class SigningKey(db.Model):
    """A public key of the issuing body. Private halves live in files, never here."""

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    public_key: Mapped[str] = mapped_column(sa.String(64))  # raw 32 bytes, base64url
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def active(self) -> bool:
        return self.retired_at is None
