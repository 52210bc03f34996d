"""Submitting certificates to the bureau in batches, and recording the bureau's decisions.

A submitted certificate is frozen: it cannot be submitted again, and the bureau decides on the
exact bytes it was shown (each batch item keeps the PDF's hash). Only a reviewer (role hr)
decides, only on a batch still awaiting review; each decision is signed, audited, and shows at
once wherever the certificate is checked. A rejected certificate goes back to the office,
which re-issues it and submits the new one in a new batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from certify.accounts.models import Role, User
from certify.audit.anchor import take_anchor
from certify.audit.services import record_event
from certify.certificates.models import Certificate, CertificateStatus
from certify.certificates.numbering import Issuer, next_serial
from certify.certificates.services import certificate_dir, find_certificate, store_once
from certify.certificates.signing import b64url, sign_bytes
from certify.core import clock
from certify.core.errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from certify.core.lookups import get_or_not_found
from certify.core.storage import AlteredFile, read_checked
from certify.core.workdays import add_working_days
from certify.endorsement.models import BatchItem, BatchStatus, Decision, EndorsementBatch
from certify.endorsement.package import Package, build_package
from certify.exams.models import ExamSession
from certify.extensions import db
from certify.notifications.services import notify, notify_role
from certify.results.models import Result, ResultStatus

DECISION_LABEL = b"certify-endorsement-decision-v1\n"
MAX_REASON = 500


@dataclass
class Decisions:
    """What a reviewer decided: numbers to endorse (or all the rest), numbers to reject."""

    endorse: set[str] = field(default_factory=set)
    endorse_all: bool = False
    reject: dict[str, str] = field(default_factory=dict)  # number → reason


def submittable(session: ExamSession | None = None) -> list[Certificate]:
    """Issued certificates not yet handed to the bureau (of one session, or all)."""
    query = sa.select(Certificate).where(Certificate.status == CertificateStatus.ISSUED)
    if session is not None:
        query = query.join(Result, Result.id == Certificate.result_id).where(
            Result.session_id == session.id
        )
    return list(db.session.scalars(query.order_by(Certificate.number)))


def certificates_by_number(numbers: Iterable[str]) -> list[Certificate]:
    found, missing = [], []
    for number in numbers:
        certificate = find_certificate(number)
        (found if certificate else missing).append(certificate or number)
    if missing:
        raise ValidationFailed(
            [
                Problem("numbers", _("There is no certificate %(number)s.", number=n))
                for n in missing
            ]
        )
    return found


def not_proposed(certificates: list[Certificate]) -> list[Result]:
    """Everyone of the certificates' exams who failed or was absent: the bureau's 评价结果汇总表
    accounts for every candidate, and tells 不合格 from 缺考."""
    session_ids = db.session.scalars(
        sa.select(Result.session_id)
        .where(Result.id.in_([c.result_id for c in certificates]))
        .distinct()
    ).all()
    return list(
        db.session.scalars(
            sa.select(Result)
            .join(User, User.id == Result.user_id)
            .where(
                Result.session_id.in_(session_ids),
                Result.passed.is_(False),
                Result.status != ResultStatus.DRAFT,
            )
            .order_by(Result.session_id, Result.absent, User.name)
        )
    )


def submit_batch(
    certificates: list[Certificate],
    actor: User,
    session: ExamSession | None = None,
    note: str = "",
) -> EndorsementBatch:
    """Freeze the certificates, pack them, and put the batch in the reviewers' inbox."""
    certificates = _checked_for_submission(certificates)
    now = clock.now()
    batch = _open_batch(actor, session, note, now)
    for certificate in certificates:
        _freeze(certificate, batch, actor, now)
    package = _pack(batch, certificates)
    record_event(
        "batch.submitted",
        batch,
        after={
            "reference": batch.reference,
            "certificates": [c.number for c in certificates],
            "package_sha256": package.sha256,
            **_anchor_fields(batch),
        },
        actor=actor,
    )
    notify_role(
        Role.HR,
        "batch_submitted",
        link=f"/endorsement/batches/{batch.id}",
        reference=batch.reference,
        count=len(certificates),
        due=clock.local(batch.review_due_at).strftime("%Y-%m-%d"),
    )
    return batch


def _checked_for_submission(certificates: list[Certificate]) -> list[Certificate]:
    """Each certificate once, in number order; only issued ones: a certificate already with
    the bureau, or revoked, must not reach it (again)."""
    certificates = sorted({c.id: c for c in certificates}.values(), key=lambda c: c.number)
    if not certificates:
        raise ValidationFailed([Problem("numbers", _("Choose at least one certificate."))])
    not_ready = [c for c in certificates if c.status is not CertificateStatus.ISSUED]
    if not_ready:
        raise ValidationFailed(
            [
                Problem(
                    "numbers",
                    _(
                        "Certificate %(number)s is %(status)s; only issued certificates can be "
                        "submitted.",
                        number=c.number,
                        status=c.status_label,
                    ),
                )
                for c in not_ready
            ]
        )
    return certificates


def _open_batch(
    actor: User, session: ExamSession | None, note: str, now: datetime
) -> EndorsementBatch:
    """A new batch under the year's next reference (PB2026-0001), due for review within
    ENDORSEMENT_REVIEW_WORKING_DAYS."""
    year = clock.local(now).year
    reference = f"PB{year}-{next_serial(f'PB{year}-'):04d}"
    days = _config_days("ENDORSEMENT_REVIEW_WORKING_DAYS", 5)
    batch = EndorsementBatch(
        reference=reference,
        session_id=session.id if session else None,
        status=BatchStatus.SUBMITTED,
        submitted_by_id=actor.id,
        submitted_at=now,
        review_due_at=add_working_days(now, days),
        note=(note or "").strip()[:2000],
    )
    db.session.add(batch)
    return batch


def _freeze(certificate: Certificate, batch: EndorsementBatch, actor: User, now: datetime) -> None:
    """The certificate is submitted, and its item keeps the hash of the PDF the bureau is
    shown: a decision is on those bytes."""
    certificate.submit(now)
    batch.items.append(BatchItem(certificate=certificate, pdf_sha256=certificate.pdf_sha256))
    record_event(
        "certificate.submitted",
        certificate,
        before={"status": "issued"},
        after={"status": "submitted", "batch": batch.reference},
        actor=actor,
    )


def _pack(batch: EndorsementBatch, certificates: list[Certificate]) -> Package:
    """Build, sign and store the batch's package, after the certificates' audit entries."""
    # The trail's head, this batch's own entries included, goes into the signed manifest:
    # the bureau holds it from now on, so no later rewrite of the trail up to it goes unseen.
    anchor = take_anchor()
    head = anchor.to_json() if anchor else None
    if anchor is not None:
        batch.audit_head_id, batch.audit_head_hash = anchor.head.id, anchor.head.hash
    package = build_package(
        batch.reference, Issuer.configured().name, certificates, head, not_proposed(certificates)
    )
    batch.package_path = store_once(Path("batches"), batch.reference, ".zip", package.data)
    batch.package_sha256 = package.sha256
    batch.manifest_key_id, batch.manifest_signature = package.key_id, package.signature
    return package


def decide_batch(batch: EndorsementBatch, reviewer: User, decisions: Decisions) -> list[BatchItem]:
    """Record the reviewer's decisions; returns the items decided now."""
    _check_may_decide(batch, reviewer)
    items = {item.certificate.number: item for item in batch.items}
    problems = _decision_problems(items, decisions)
    if problems:
        raise ValidationFailed(problems)
    endorse = set(decisions.endorse)
    if decisions.endorse_all:
        endorse |= {n for n, item in items.items() if item.decision is Decision.PENDING} - set(
            decisions.reject
        )
    now = clock.now()
    decided = []
    for number in sorted(endorse | set(decisions.reject)):
        item = items[number]
        if item.decision is not Decision.PENDING:
            if decisions.endorse_all and number not in decisions.endorse:
                continue
            raise Conflict(
                _("Certificate %(number)s is already decided.", number=number),
                code="already_decided",
            )
        if number in decisions.reject:
            _reject(item, reviewer, decisions.reject[number].strip(), now)
        else:
            _endorse(item, reviewer, now)
        decided.append(item)
    if batch.close_if_complete(now):
        _record_batch_decided(batch, reviewer)
    return decided


def _check_may_decide(batch: EndorsementBatch, reviewer: User) -> None:
    if reviewer.role is not Role.HR:
        raise Forbidden(
            _("Only the bureau's reviewers can endorse or reject certificates."),
            code="not_a_reviewer",
        )
    if batch.status is not BatchStatus.SUBMITTED:
        raise Conflict(_("This batch is already decided."), code="batch_decided")


def _decision_problems(items: dict[str, BatchItem], decisions: Decisions) -> list[Problem]:
    """Everything wrong with the decisions at once, so the reviewer fixes the form in one go."""
    problems = [
        Problem("numbers", _("Certificate %(number)s is not in this batch.", number=number))
        for number in sorted(set(decisions.endorse) | set(decisions.reject))
        if number not in items
    ]
    both = set(decisions.endorse) & set(decisions.reject)
    problems += [
        Problem(
            "numbers", _("Certificate %(number)s cannot be both endorsed and rejected.", number=n)
        )
        for n in sorted(both)
    ]
    for number, reason in decisions.reject.items():
        if not (reason or "").strip():
            problems.append(
                Problem("reason", _("Say why certificate %(number)s is rejected.", number=number))
            )
        elif len(reason) > MAX_REASON:
            problems.append(
                Problem("reason", _("Keep the reason under %(n)d characters.", n=MAX_REASON))
            )
    return problems


def _record_batch_decided(batch: EndorsementBatch, reviewer: User) -> None:
    """The last decision closes the batch: audited, and the office told how it went."""
    counts = batch.counts()
    record_event(
        "batch.decided",
        batch,
        before={"status": "submitted"},
        after={
            "status": "decided",
            "endorsed": counts[Decision.ENDORSED],
            "rejected": counts[Decision.REJECTED],
            **_anchor_fields(batch),
        },
        actor=reviewer,
    )
    notify_role(
        Role.ADMIN,
        "batch_decided",
        link=f"/endorsement/batches/{batch.id}",
        reference=batch.reference,
        endorsed=counts[Decision.ENDORSED],
        rejected=counts[Decision.REJECTED],
    )


def _endorse(item: BatchItem, reviewer: User, now) -> None:
    certificate = item.certificate
    _check_unchanged(item)
    body = Issuer.configured().endorser
    item.decide(Decision.ENDORSED, reviewer, now)
    certificate.endorse(body, now)
    _sign_and_record_decision(
        item, reviewer, "certificate.endorsed", {"status": "endorsed", "by": body}
    )
    notify(
        [certificate.holder],
        "certificate_endorsed",
        link="/certificates/mine",
        number=certificate.number,
        trade=certificate.trade_name,
        body=body,
    )


def _reject(item: BatchItem, reviewer: User, reason: str, now) -> None:
    certificate = item.certificate
    item.decide(Decision.REJECTED, reviewer, now, reason)
    certificate.reject(reason, now)
    _sign_and_record_decision(
        item, reviewer, "certificate.rejected", {"status": "rejected", "reason": reason}
    )
    notify_role(
        Role.ADMIN,
        "certificate_rejected",
        link=f"/certificates/{certificate.number}",
        number=certificate.number,
        reason=reason,
    )


def _sign_and_record_decision(
    item: BatchItem, reviewer: User, action: str, after: dict[str, str]
) -> None:
    """Either decision is signed, then audited with its batch and the audit head the batch's
    package anchors: the signature and the trail vouch for the same decision."""
    _sign_decision(item)
    record_event(
        action,
        item.certificate,
        before={"status": "submitted"},
        after={**after, "batch": item.batch.reference, **_anchor_fields(item.batch)},
        actor=reviewer,
    )


def _check_unchanged(item: BatchItem) -> None:
    if item.certificate.pdf_sha256 != item.pdf_sha256:
        raise Conflict(
            _(
                "Certificate %(number)s changed after it was submitted; it cannot be endorsed.",
                number=item.certificate.number,
            ),
            code="changed_since_submission",
        )


def _anchor_fields(batch: EndorsementBatch) -> dict:
    """The audit head the batch's package anchors, for entries and signatures about it;
    nothing for a batch submitted before packages carried one."""
    if batch.audit_head_id is None:
        return {}
    return {"audit_head": {"id": batch.audit_head_id, "hash": batch.audit_head_hash}}


def decision_payload(item: BatchItem) -> bytes:
    """What a decision's signature covers: which batch, certificate, bytes, verdict, who, when,
    and the audit head the package anchored, so the bureau's own signature vouches for it."""
    return DECISION_LABEL + json.dumps(
        {
            "batch": item.batch.reference,
            "number": item.certificate.number,
            "pdf_sha256": item.pdf_sha256,
            "decision": str(item.decision),
            "reason": item.reason,
            "reviewer": item.decided_by.username if item.decided_by else None,
            "decided_at": item.decided_at.isoformat() if item.decided_at else None,
            **_anchor_fields(item.batch),
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


def _sign_decision(item: BatchItem) -> None:
    key_id, signature = sign_bytes(decision_payload(item))
    item.decision_key_id, item.decision_signature = key_id, b64url(signature)


def _config_days(key: str, default: int) -> int:
    """A number of working days from the configuration; a bad value falls back, never a 500."""
    try:
        return max(int(current_app.config.get(key, default)), 0)
    except (TypeError, ValueError):
        current_app.logger.warning(
            "%s=%r is not a number of days; using %d", key, current_app.config.get(key), default
        )
        return default


def get_batch(batch_id: int) -> EndorsementBatch:
    return get_or_not_found(
        EndorsementBatch, batch_id, _("There is no such batch."), "batch_not_found"
    )


BATCHES_PER_PAGE = 25


def _batches_query(status: BatchStatus | None) -> sa.Select:
    query = sa.select(EndorsementBatch).order_by(
        EndorsementBatch.submitted_at.desc(), EndorsementBatch.id.desc()
    )
    if status is not None:
        query = query.where(EndorsementBatch.status == status)
    return query.options(selectinload(EndorsementBatch.submitted_by))


def page_of_batches(status: BatchStatus | None, page: int):
    """One page of batches, newest first: a province submits hundreds over a year."""
    query = _batches_query(status)
    return db.paginate(query, page=page, per_page=BATCHES_PER_PAGE, error_out=False)


def recent_batches(status: BatchStatus | None, limit: int) -> list[EndorsementBatch]:
    return list(db.session.scalars(_batches_query(status).limit(limit)))


def decision_counts(batch_ids: Iterable[int]) -> dict[int, dict[Decision, int]]:
    """Each batch's items by decision, counted in the database: a list of batches of a
    thousand certificates each must not load every item to show three numbers."""
    ids = list(batch_ids)
    counts = {batch_id: {decision: 0 for decision in Decision} for batch_id in ids}
    if ids:
        rows = db.session.execute(
            sa.select(BatchItem.batch_id, BatchItem.decision, sa.func.count())
            .where(BatchItem.batch_id.in_(ids))
            .group_by(BatchItem.batch_id, BatchItem.decision)
        )
        for batch_id, decision, n in rows:
            counts[batch_id][decision] = n
    return counts


def batch_counts() -> dict[BatchStatus, int]:
    rows = db.session.execute(
        sa.select(EndorsementBatch.status, sa.func.count()).group_by(EndorsementBatch.status)
    )
    counts = {status: 0 for status in BatchStatus}
    counts.update({status: n for status, n in rows})
    return counts


def package_path(batch: EndorsementBatch) -> Path:
    return certificate_dir() / batch.package_path


def read_package(batch: EndorsementBatch) -> bytes:
    try:
        data = read_checked(package_path(batch), batch.package_sha256)
    except FileNotFoundError as exc:
        raise NotFound(
            _("The package of batch %(ref)s is missing from storage.", ref=batch.reference),
            code="package_missing",
        ) from exc
    except AlteredFile as exc:
        raise Conflict(
            _(
                "The stored package of batch %(ref)s does not match its record.",
                ref=batch.reference,
            ),
            code="package_altered",
        ) from exc
    return data
