"""Certificates, the serial counters that number them, and the keys that sign them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certify.accounts.models import User
from certify.core import clock
from certify.core.db_types import UTCDateTime, text_enum
from certify.core.errors import Conflict
from certify.core.labels import LabelledEnum
from certify.extensions import db
from certify.results.models import ScoreParts


class CertificateStatus(LabelledEnum):
    ISSUED = "issued", _l("Issued")
    SUBMITTED = "submitted", _l("Awaiting endorsement")  # to the HR bureau for endorsement
    ENDORSED = "endorsed", _l("Endorsed")
    REJECTED = "rejected", _l("Rejected")
    REVOKED = "revoked", _l("Revoked")


STATUS_LABELS = CertificateStatus.labels()

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

# The states in which a certificate is the bureau's business: it was put in an endorsement
# batch. Its reviewers (role hr) may revoke these; everything else is the office's.
BUREAU_STATUSES = frozenset(
    {CertificateStatus.SUBMITTED, CertificateStatus.ENDORSED, CertificateStatus.REJECTED}
)


class RevocationReason(LabelledEnum):
    """Why a certificate was revoked, as the public may read it. A fixed list: the office's
    own words (``Certificate.revoked_reason``) can name people and stay internal."""

    ISSUED_IN_ERROR = "issued_in_error", _l("Issued in error")  # 错误发证
    # 信息有误已更正 (a re-issue supersedes it)
    CORRECTED = "corrected", _l("Details were wrong and have been corrected")
    IMPROPERLY_OBTAINED = "improperly_obtained", _l("Obtained improperly")  # 违规取得
    OTHER = "other", _l("Other reason")  # 其他


REVOCATION_LABELS = RevocationReason.labels()

# Which fields a signature covers (certificates/signing.py prefixes the version's label).
# 1: the identity fields, as signed before issue 15. 2: every field printed on the page.
# New certificates get PAYLOAD_VERSION; a certificate keeps verifying under the version it
# carries, and v1's fields are exactly what v1 signed.
PAYLOAD_VERSION = 2
PAYLOAD_VERSIONS = (1, 2)
V1_KEYS = ("number", "holder", "id_type", "id_number", "trade", "level", "issuer", "issued_on")
V2_KEYS = (
    "payload_version",
    "number",
    "certificate_type",
    "holder",
    "id_type",
    "id_number",
    "trade",
    "work_type",
    "level",
    "theory",
    "practical",
    "issuer",
    "issued_on",
    "photo_sha256",
)


def printed_score(hundredths: int | None) -> str | None:
    """A score as the certificate prints it: one decimal, half up (82.55 → "82.6")."""
    if hundredths is None:
        return None
    tenths = (Decimal(hundredths) / 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return str(tenths)


class Certificate(ScoreParts, db.Model):
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

    @classmethod
    def successors_of(cls, certificates: list[Certificate]) -> dict[int, Certificate]:
        """For each superseded certificate, the one that replaced it (one query)."""
        ids = [c.id for c in certificates]
        if not ids:
            return {}
        rows = db.session.scalars(sa.select(cls).where(cls.supersedes_id.in_(ids)))
        return {row.supersedes_id: row for row in rows}

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def is_revoked(self) -> bool:
        return self.status is CertificateStatus.REVOKED

    @property
    def reviewer_may_revoke(self) -> bool:
        """The bureau's reviewers may revoke what was submitted to them, nothing else."""
        return self.status in BUREAU_STATUSES

    @property
    def public_revocation(self) -> RevocationReason | None:
        """The reason the public is told; None unless revoked.

        Rows revoked before the fixed list carry no code: a superseded one was corrected,
        any other is "other" — never the internal note.
        """
        if not self.is_revoked:
            return None
        try:
            return RevocationReason(self.revoked_reason_code or "")
        except ValueError:
            return RevocationReason.OTHER

    def material(self, version: int | None = None) -> dict[str, str | int | None]:
        """The fields the signature covers under `version` (default: the certificate's own).

        Version 2 is every field the page prints, in the printed form (scores with one
        decimal), so what is signed is what a reader sees; templates/certificates/
        certificate.html is rendered from these values (certificates/face.py). Work type
        (工种/职业方向) and photo are null until the catalogue and photos provide them.
        """
        version = version or self.payload_version or 1
        full: dict[str, str | int | None] = {
            "payload_version": 2,
            "number": self.number,
            "certificate_type": self.certificate_type,
            "holder": self.holder_name,
            "id_type": self.id_type,
            "id_number": self.id_number,
            "trade": self.trade_name,
            "work_type": None,
            "level": self.level_name,
            "theory": printed_score(self.theory_hundredths),
            "practical": printed_score(self.practical_hundredths),
            "issuer": self.issuer_name,
            "issued_on": self.issued_on.isoformat(),
            "photo_sha256": None,
        }
        if version == 1:
            return {key: full[key] for key in V1_KEYS}
        if version == 2:
            return full
        raise ValueError(f"unknown payload version {version}")

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

    def revoke(
        self,
        reason: str,
        at: datetime,
        code: RevocationReason = RevocationReason.OTHER,
    ) -> None:
        """Revoke for good: `reason` is the internal note, `code` what the public reads."""
        code = RevocationReason(code)  # an unknown code is a programming error: ValueError
        self._move(CertificateStatus.REVOKED, at)
        self.revoked_at, self.revoked_reason = at, reason
        self.revoked_reason_code = code.value


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
