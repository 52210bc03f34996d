"""Public verification: one verdict for one question about one certificate.

Employers ask in three ways: they scan the QR code (number + signature), they type a
number, or they type the holder's name and ID number. Only the first proves that the
certificate in their hand was issued by us; the other two ask the register alone, and the
answer says so. Whatever the route, what leaves this module is masked: the name with its
middle masked and the ID number cut to its first 6 and last 4 characters, and a revocation
gives one of the fixed public reasons, never the office's own note, so no template or JSON
encoder can leak more than that by mistake.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from certify.certificates.models import Certificate, CertificateStatus, RevocationReason
from certify.certificates.services import find_certificate
from certify.certificates.signing import public_keys, split_signature_param, verify_signature
from certify.core import clock
from certify.core.idcard import normalise_id_number
from certify.core.masking import mask_id_number, mask_name
from certify.extensions import db

MAX_NUMBER = 32  # as long as a certificate number can be (Certificate.number)
MAX_NAME = 64
MAX_ID_NUMBER = 18


class Verdict(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    REJECTED = "rejected"
    INVALID = "invalid"  # a signature was given and it does not hold
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class PublicFacts:
    """What anyone may learn about a certificate: its fields, personal ones masked."""

    number: str
    holder: str
    id_type: str
    id_number: str
    certificate_type: str
    trade: str
    level: str
    issuer: str
    issued_on: date
    endorsed_by: str | None
    endorsed_on: date | None
    revoked_on: date | None
    revoked_reason: str | None  # the label of one fixed public reason, never the office's note
    revoked_reason_code: str | None
    rejected_reason: str | None
    superseded_by: str | None


@dataclass(frozen=True)
class Verification:
    """The answer: a verdict and, unless the verdict is invalid or not found, the facts."""

    verdict: Verdict
    number: str
    signature_checked: bool
    endorsed: bool = False
    facts: PublicFacts | None = None

    @property
    def pending(self) -> bool:
        """Valid but not (yet) endorsed: shown amber, not green."""
        return self.verdict is Verdict.VALID and not self.endorsed

    def to_json(self) -> dict[str, object]:
        """The API contract (also the JSON of /v/<number>); extra keys may be added, never
        removed or renamed."""
        facts = self.facts
        return {
            "verdict": str(self.verdict),
            "endorsed": self.endorsed,
            "endorsed_by": facts.endorsed_by if facts else None,
            "endorsed_on": _iso(facts.endorsed_on) if facts else None,
            "holder": facts.holder if facts else None,
            "trade": facts.trade if facts else None,
            "level": facts.level if facts else None,
            "issued_on": _iso(facts.issued_on) if facts else None,
            "number": self.number,
            "signature_checked": self.signature_checked,
            "id_type": facts.id_type if facts else None,
            "id_number": facts.id_number if facts else None,
            "certificate_type": facts.certificate_type if facts else None,
            "issuer": facts.issuer if facts else None,
            "revoked_on": _iso(facts.revoked_on) if facts else None,
            "revoked_reason": facts.revoked_reason if facts else None,
            "revoked_reason_code": facts.revoked_reason_code if facts else None,
            "rejected_reason": facts.rejected_reason if facts else None,
            "superseded_by": facts.superseded_by if facts else None,
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def normalise_number(number: str | None) -> str:
    """As find_certificate() reads it; cut so a silly long input is never echoed back."""
    return (number or "").strip().upper()[:MAX_NUMBER]


def has_control_characters(text: str) -> bool:
    """NUL and friends: PostgreSQL refuses them in a query, so they must not reach one."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def verify_certificate(number: str, sig: str | None) -> Verification:
    """The one verdict for `number`, checking `sig` ("kid.signature") when it is given.

    A signature that is malformed, by a key we never published, or not over exactly this
    certificate's material fields makes the verdict "invalid", with no facts at all: the
    link was forged or altered, and what it names must not be shown as if it were true.
    A signature naming a number we never issued is invalid for the same reason.
    """
    wanted = normalise_number(number)
    if not sig:
        certificate = _find(wanted)
        if certificate is None:
            return Verification(Verdict.NOT_FOUND, wanted, signature_checked=False)
        return _from_register(certificate, signature_checked=False)
    parts = split_signature_param(sig)
    certificate = _find(wanted) if parts else None
    if certificate is None or not verify_signature(
        certificate.material(), parts[0], parts[1], public_keys()
    ):
        return Verification(Verdict.INVALID, wanted, signature_checked=True)
    return _from_register(certificate, signature_checked=True)


def lookup_by_holder(name: str, id_number: str) -> list[Verification]:
    """The certificates of the one person with exactly this name and ID number, newest first.

    Both must match the frozen copies on the certificate, so a guess of either alone finds
    nothing: this can never become a list of other people.
    """
    name = (name or "").strip()
    id_number = normalise_id_number(id_number)
    if not name or not id_number or len(name) > MAX_NAME or len(id_number) > MAX_ID_NUMBER:
        return []
    if has_control_characters(name + id_number):
        return []
    certificates = db.session.scalars(
        sa.select(Certificate)
        .where(Certificate.holder_name == name, Certificate.id_number == id_number)
        .order_by(Certificate.created_at.desc(), Certificate.id.desc())
    )
    return [_from_register(c, signature_checked=False) for c in certificates]


def check_pdf_bytes(number: str, data: bytes) -> bool:
    """True only when `data` are exactly the bytes issued as certificate `number`."""
    certificate = _find(normalise_number(number))
    if certificate is None or not certificate.pdf_sha256:
        return False
    return hmac.compare_digest(hashlib.sha256(data).hexdigest(), certificate.pdf_sha256)


def _find(number: str) -> Certificate | None:
    return None if has_control_characters(number) else find_certificate(number)


def _from_register(certificate: Certificate, signature_checked: bool) -> Verification:
    status = certificate.status
    if status is CertificateStatus.REVOKED:
        verdict = Verdict.REVOKED
    elif status is CertificateStatus.REJECTED:
        verdict = Verdict.REJECTED
    else:
        verdict = Verdict.VALID
    return Verification(
        verdict=verdict,
        number=certificate.number,
        signature_checked=signature_checked,
        endorsed=status is CertificateStatus.ENDORSED,
        facts=public_facts(certificate),
    )


def public_facts(certificate: Certificate) -> PublicFacts:
    successor = db.session.scalar(
        sa.select(Certificate.number).where(Certificate.supersedes_id == certificate.id)
    )
    revoked_at = certificate.revoked_at
    public = certificate.public_revocation
    if public is not None and certificate.revoked_reason_code is None and successor:
        public = RevocationReason.CORRECTED  # revoked before the fixed list, as superseded
    return PublicFacts(
        number=certificate.number,
        holder=mask_name(certificate.holder_name),
        id_type=certificate.id_type,
        id_number=mask_id_number(certificate.id_number),
        certificate_type=certificate.certificate_type,
        trade=certificate.trade_name,
        level=certificate.level_name,
        issuer=certificate.issuer_name,
        issued_on=certificate.issued_on,
        endorsed_by=certificate.endorsed_by,
        endorsed_on=certificate.endorsed_on,
        revoked_on=clock.local(revoked_at).date() if revoked_at else None,
        revoked_reason=public.label if public else None,
        revoked_reason_code=public.value if public else None,
        rejected_reason=certificate.rejected_reason,
        superseded_by=successor,
    )
