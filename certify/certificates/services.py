"""Issuing, re-issuing, revoking and storing certificates.

A certificate is issued only from a final, passed result. Its material fields are copied
and signed at issue, its PDF is rendered once and stored with its SHA-256, and every later
download serves those bytes: a correction is a re-issue under a new number that supersedes
the old certificate, never a silent re-render.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from certify.accounts.models import Role, User
from certify.audit.services import record_event
from certify.catalog.models import CertificateType
from certify.certificates.models import (
    PAYLOAD_VERSION,
    Certificate,
    CertificateStatus,
    RevocationReason,
)
from certify.certificates.numbering import Issuer, allocate_number
from certify.certificates.render import render_certificate_pdf
from certify.certificates.signing import sign_material, signature_param
from certify.cohorts.models import Enrolment
from certify.core import clock
from certify.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    Problem,
    ValidationFailed,
)
from certify.core.storage import AlteredFile, read_checked
from certify.exams.models import ExamSession
from certify.extensions import db
from certify.results.models import Result, ResultStatus

# How 职业技能等级 is written on the certificate: 中文数字+级/等级名称 (the national style).
LEVEL_NAMES = {
    5: "五级/初级工",
    4: "四级/中级工",
    3: "三级/高级工",
    2: "二级/技师",
    1: "一级/高级技师",
}
SPECIAL_LEVEL_NAME = "专项职业能力"
MAX_REASON = 500
NUMBER_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9_/-]{0,31}")


@dataclass(frozen=True)
class Issued:
    certificate: Certificate
    path: Path


def certificate_dir() -> Path:
    return Path(current_app.config["CERTIFICATE_DIR"])


def pdf_path(certificate: Certificate) -> Path:
    return certificate_dir() / certificate.pdf_path


def verify_url(certificate: Certificate) -> str:
    """The QR code's target: the public page, with the number and its signature."""
    sig = signature_param(certificate.key_id, certificate.signature)
    return f"{current_app.config['BASE_URL']}/v/{certificate.number}?sig={sig}"


def count_final_passes(session: ExamSession) -> int:
    """Final passes of the session, with or without a certificate (the "of N" in progress)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Result)
        .where(
            Result.session_id == session.id,
            Result.status == ResultStatus.FINAL,
            Result.passed.is_(True),
        )
    )


def eligible_results(session: ExamSession) -> list[Result]:
    """Final passes of the session that have no certificate yet."""
    has_certificate = sa.select(Certificate.id).where(Certificate.result_id == Result.id)
    return list(
        db.session.scalars(
            sa.select(Result)
            .where(
                Result.session_id == session.id,
                Result.status == ResultStatus.FINAL,
                Result.passed.is_(True),
                ~has_certificate.exists(),
            )
            .order_by(Result.id)
        )
    )


def issue_certificate(result: Result, actor: User | None = None) -> Certificate:
    """Issue, sign, render and store the certificate of one final pass."""
    _lock_result(result)
    if result.status is not ResultStatus.FINAL or not result.passed:
        raise Conflict(
            _("Only a final pass (after publicity) can receive a certificate."),
            code="result_not_final_pass",
        )
    existing = db.session.scalar(sa.select(Certificate).where(Certificate.result_id == result.id))
    if existing is not None:
        raise Conflict(
            _("This result already has certificate %(number)s.", number=existing.number),
            code="already_issued",
        )
    return _issue(result, actor)


def _lock_result(result: Result) -> None:
    """Hold the result's row until commit, so two issuers never both see it as still to issue.

    PostgreSQL: a row lock. SQLite: a no-op write takes the database's write lock before the
    check (a read first would run outside any transaction and could be stale by the insert).
    """
    table = Result.__table__
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.select(table.c.id).where(table.c.id == result.id).with_for_update())
    else:
        db.session.execute(table.update().where(table.c.id == result.id).values(id=table.c.id))


def reissue_certificate(old: Certificate, reason: str, actor: User | None = None) -> Certificate:
    """A corrected certificate under a new number; the old one is revoked as superseded.

    The new one takes the holder's fields as they stand now (correct the account first).
    """
    reason = _checked_reason(reason)
    if old.is_revoked:
        raise Conflict(
            _("Certificate %(number)s is revoked; it cannot be re-issued.", number=old.number),
            code="certificate_revoked",
        )
    result = db.session.get(Result, old.result_id)
    new = _issue(result, actor, supersedes=old)
    before = {"status": str(old.status)}
    # The reason as the office wrote it stays internal; the public reads "corrected" and
    # "replaced by NEW" (from supersedes_id), in the reader's language.
    old.revoke(reason, new.created_at, RevocationReason.CORRECTED)
    record_event(
        "certificate.revoked",
        old,
        before=before,
        after={
            "status": "revoked",
            "code": RevocationReason.CORRECTED.value,
            "superseded_by": new.number,
        },
        actor=actor,
    )
    return new


def revoke_certificate(
    number: str,
    reason: str,
    actor: User | None = None,
    code: RevocationReason | str = RevocationReason.OTHER,
) -> Certificate:
    """Revoke for good. `reason` is the office's internal note; `code`, one of the fixed
    public reasons, is all that verification shows.

    The bureau's reviewers (role hr) may revoke only what was submitted to them; revoking
    cannot be undone, so a certificate the office never sent stays the office's decision.
    """
    certificate = find_certificate(number)
    if certificate is None:
        raise NotFound(_("There is no certificate %(number)s.", number=number), code="not_found")
    reviewer = getattr(actor, "role", None) is Role.HR
    if reviewer and not certificate.is_revoked and not certificate.reviewer_may_revoke:
        raise Forbidden(
            _(
                "Certificate %(number)s was not submitted to the bureau, so only the "
                "assessment office may revoke it.",
                number=certificate.number,
            ),
            code="not_submitted_to_bureau",
        )
    code = checked_revocation_code(code)
    reason = _checked_reason(reason)
    before = {"status": str(certificate.status)}
    certificate.revoke(reason, clock.now(), code)
    record_event(
        "certificate.revoked",
        certificate,
        before=before,
        after={"status": "revoked", "code": code.value, "reason": reason},
        actor=actor,
    )
    return certificate


def checked_revocation_code(code: RevocationReason | str | None) -> RevocationReason:
    """One of the fixed public reasons, or a problem naming them."""
    try:
        return RevocationReason((code or "").strip() if isinstance(code, str) else code)
    except ValueError:
        choices = ", ".join(f"{r.value} ({r.label})" for r in RevocationReason)
        raise ValidationFailed(
            [Problem("code", _("Choose one of the public reasons: %(choices)s.", choices=choices))]
        ) from None


def find_certificate(number: str) -> Certificate | None:
    number = (number or "").strip().upper()
    if not NUMBER_PATTERN.fullmatch(number):
        return None  # not a number any format makes (and no NUL bytes for PostgreSQL)
    return db.session.scalar(sa.select(Certificate).where(Certificate.number == number))


def certificates_of(user: User) -> list[Certificate]:
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.created_at.desc())
        )
    )


def session_certificates(session: ExamSession) -> list[Certificate]:
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .join(Result, Result.id == Certificate.result_id)
            .where(Result.session_id == session.id)
            .order_by(Certificate.number)
        )
    )


def enrolments_for(certificates: list[Certificate]) -> dict[int, Enrolment]:
    """Certificate id → the holder's enrolment in the class that sat the exam (花名册 fields)."""
    by_result = {c.result_id: c.id for c in certificates}
    found = _enrolments_by_result(list(by_result))
    return {by_result[result_id]: enrolment for result_id, enrolment in found.items()}


def result_enrolments(results: list[Result]) -> dict[int, Enrolment]:
    """Result id → the worker's enrolment in the class that sat the exam (花名册 fields)."""
    return _enrolments_by_result([r.id for r in results])


def _enrolments_by_result(result_ids: list[int]) -> dict[int, Enrolment]:
    if not result_ids:
        return {}
    rows = db.session.execute(
        sa.select(Result.id, Enrolment)
        .join(ExamSession, ExamSession.id == Result.session_id)
        .join(
            Enrolment,
            sa.and_(
                Enrolment.cohort_id == ExamSession.cohort_id, Enrolment.user_id == Result.user_id
            ),
        )
        .where(Result.id.in_(result_ids))
    )
    return {result_id: enrolment for result_id, enrolment in rows}


def read_pdf(certificate: Certificate) -> bytes:
    """The stored bytes, checked against the recorded hash before they leave."""
    try:
        return read_checked(pdf_path(certificate), certificate.pdf_sha256)
    except FileNotFoundError as exc:
        raise NotFound(
            _(
                "The PDF of certificate %(number)s is missing from storage.",
                number=certificate.number,
            ),
            code="pdf_missing",
        ) from exc
    except AlteredFile as exc:
        raise Conflict(
            _(
                "The stored PDF of certificate %(number)s does not match its record.",
                number=certificate.number,
            ),
            code="pdf_altered",
        ) from exc


@dataclass(frozen=True)
class IssueOutcome:
    """What issuing did for one result: a certificate, or why not (`code`, `problems`)."""

    result: Result
    certificate: Certificate | None = None
    code: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def named_problems(self) -> list[str]:
        name = self.result.user.name or self.result.user.username
        return [f"{name}: {problem}" for problem in self.problems]


def issue_pending_certificates(
    session: ExamSession, actor: User | None = None, limit: int | None = None
) -> Iterator[IssueOutcome]:
    """Issue for the session's eligible results, each in its own savepoint, and say how each
    went; the one loop behind the issue job, the office's page and `certificates issue`.

    One person's problem (no ID number on record) rolls back only that certificate and the
    rest go on; a result another issuer got first reads `already_issued`; without a signing
    key it stops after saying so once. The caller commits: the job and the CLI after each
    certificate, a page once at the end of its request. `limit` counts certificates issued.
    """
    issued = 0
    for result in eligible_results(session):
        if limit is not None and issued >= limit:
            return
        try:
            with db.session.begin_nested():
                certificate = issue_certificate(result, actor)
        except ValidationFailed as exc:
            yield IssueOutcome(
                result, code=exc.code, problems=tuple(p.message for p in exc.problems)
            )
        except DomainError as exc:
            yield IssueOutcome(result, code=exc.code, problems=(exc.message,))
            if exc.code == "no_signing_key":
                return  # the same for everyone
        else:
            issued += 1
            yield IssueOutcome(result, certificate)


def _checked_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([Problem("reason", _("Give a reason."))])
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            [Problem("reason", _("Keep the reason under %(n)d characters.", n=MAX_REASON))]
        )
    return reason


def _issue(
    result: Result, actor: User | None, supersedes: Certificate | None = None
) -> Certificate:
    cohort = result.session.cohort
    holder = result.user
    enrolment = db.session.scalar(
        sa.select(Enrolment).where(Enrolment.cohort_id == cohort.id, Enrolment.user_id == holder.id)
    )
    _check_holder(holder)
    certificate = _new_certificate(result, enrolment, actor, supersedes)
    _sign_and_store(certificate)
    db.session.add(certificate)
    record_event(
        "certificate.issued",
        certificate,
        after={
            "number": certificate.number,
            "result_id": result.id,
            "sha256": certificate.pdf_sha256,
        },
        actor=actor,
    )
    return certificate


def _check_holder(holder: User) -> None:
    """A certificate names its holder and their ID number; without them it cannot be issued."""
    if not holder.id_number or not holder.name:
        raise ValidationFailed(
            [
                Problem(
                    "holder",
                    _("%(user)s has no name or ID number on record.", user=holder.username),
                )
            ]
        )


def _new_certificate(
    result: Result,
    enrolment: Enrolment | None,
    actor: User | None,
    supersedes: Certificate | None,
) -> Certificate:
    """The certificate's fields copied from the result, the holder and the trade as they are
    now, under the next number: what is signed never changes after."""
    cohort = result.session.cohort
    trade = cohort.trade
    holder = result.user
    now = clock.now()
    issued_on = clock.local(now).date()
    special = trade.certificate_type is CertificateType.SPECIAL
    level = None if special else cohort.level
    issuer = Issuer.configured()
    return Certificate(
        number=allocate_number(trade, level, issued_on),
        result_id=result.id,
        user_id=holder.id,
        trade_id=trade.id,
        certificate_type=str(trade.certificate_type),
        level=level,
        holder_name=holder.name,
        id_type=enrolment.id_type if enrolment else "居民身份证",
        id_number=holder.id_number,
        trade_name=trade.name,
        level_name=SPECIAL_LEVEL_NAME if special else LEVEL_NAMES.get(level or 0, "--"),
        issuer_name=issuer.name,
        issued_on=issued_on,
        theory_hundredths=result.theory_hundredths,
        practical_hundredths=result.practical_hundredths,
        status=CertificateStatus.ISSUED,
        status_changed_at=now,
        created_at=now,
        supersedes_id=supersedes.id if supersedes else None,
        issued_by_id=getattr(actor, "id", None),
        payload_version=PAYLOAD_VERSION,
    )


def _sign_and_store(certificate: Certificate) -> None:
    """Sign the material, render the PDF once with the signature in its QR code, and keep
    the file with its hash: every later download serves these bytes."""
    certificate.key_id, certificate.signature = sign_material(certificate.material())
    data = render_certificate_pdf(certificate, verify_url(certificate))
    certificate.pdf_path = _store(certificate, data)
    certificate.pdf_sha256 = hashlib.sha256(data).hexdigest()
    certificate.pdf_bytes = len(data)


def _store(certificate: Certificate, data: bytes) -> str:
    return store_once(Path(str(certificate.issued_on.year)), certificate.number, ".pdf", data)


def store_once(folder: Path, stem: str, suffix: str, data: bytes) -> str:
    """Write a file once under CERTIFICATE_DIR with a fresh name; never overwrite one.

    The random part keeps a number whose transaction rolled back (and whose serial is
    therefore handed out again) from colliding with the file it left behind. Returns the
    path relative to CERTIFICATE_DIR, as records keep it.
    """
    relative = folder / f"{stem}-{secrets.token_hex(4)}{suffix}"
    path = certificate_dir() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return str(relative)
