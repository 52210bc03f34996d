"""Endorsement pages: the office submits certificates in batches; the bureau reviews them.

One URL per batch (/endorsement/batches/<id>, the link in both roles' notifications): the
office sees the outcome and the package, the reviewer (role hr) sees the review page. Only
reviewers can post decisions; the service checks the role again, so an admin cannot endorse
even by crafting a request. The reviewer sees the full ID number: comparing it with the PDF
and the roster is the review.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from certify.accounts.models import Role
from certify.certificates.models import Certificate, CertificateStatus
from certify.certificates.services import enrolments_for, read_pdf
from certify.cohorts.models import Enrolment
from certify.core import clock
from certify.core.auth import role_required
from certify.core.downloads import send_private
from certify.core.errors import Conflict, DomainError, NotFound, Problem, ValidationFailed
from certify.core.forms import flash_refusal, page_number, show_problems
from certify.endorsement import deadlines, services
from certify.endorsement.forms import EndorseForm, RejectForm, SubmitBatchForm
from certify.endorsement.models import (
    BATCH_STATUS_LABELS,
    DECISION_LABELS,
    BatchItem,
    BatchStatus,
    Decision,
    EndorsementBatch,
)
from certify.exams.models import ExamSession
from certify.exams.services import get_session
from certify.extensions import db
from certify.results.models import Result

bp = Blueprint("endorsement", __name__, url_prefix="/endorsement")

RECENT_DECIDED = 20


@bp.context_processor
def helpers() -> dict[str, object]:
    return {
        "BatchStatus": BatchStatus,
        "Decision": Decision,
        "decision_labels": DECISION_LABELS,
        "batch_status_labels": BATCH_STATUS_LABELS,
    }


# --- lookups -----------------------------------------------------------------------------


def _item(batch: EndorsementBatch, number: str) -> BatchItem:
    wanted = (number or "").strip().upper()
    for item in batch.items:
        if item.certificate.number == wanted:
            return item
    raise NotFound(
        _("Certificate %(number)s is not in this batch.", number=wanted[:32]), code="not_in_batch"
    )


def _session_ids(certificates: list[Certificate]) -> dict[int, int]:
    """Certificate id → exam session id."""
    result_ids = {c.result_id: c.id for c in certificates}
    if not result_ids:
        return {}
    rows = db.session.execute(
        sa.select(Result.id, Result.session_id).where(Result.id.in_(result_ids))
    )
    return {result_ids[result_id]: session_id for result_id, session_id in rows}


def _common_session(certificates: list[Certificate]) -> ExamSession | None:
    """The exam session when every certificate comes from the same one."""
    ids = set(_session_ids(certificates).values())
    return db.session.get(ExamSession, ids.pop()) if len(ids) == 1 else None


def _corrected_waiting() -> list[Certificate]:
    """Re-issued certificates not yet handed to the bureau."""
    return [c for c in services.submittable() if c.supersedes_id is not None]


def _sessions_waiting() -> list[tuple[ExamSession, int]]:
    """Exam sessions with issued certificates not yet submitted, and how many."""
    counts = dict(
        db.session.execute(
            sa.select(Result.session_id, sa.func.count(Certificate.id))
            .join(Certificate, Certificate.result_id == Result.id)
            .where(Certificate.status == CertificateStatus.ISSUED)
            .group_by(Result.session_id)
        ).all()
    )
    if not counts:
        return []
    sessions = db.session.scalars(
        sa.select(ExamSession)
        .where(ExamSession.id.in_(counts))
        .order_by(ExamSession.closes_at, ExamSession.id)
    )
    return [(session, counts[session.id]) for session in sessions]


# --- the office: batches and submitting ----------------------------------------------------


@bp.get("/")
@role_required(Role.ADMIN, Role.HR)
def index():
    if current_user.role is Role.HR:
        return redirect(url_for("endorsement.inbox"))
    wanted = request.args.get("status", "")
    status = BatchStatus(wanted) if wanted in set(BatchStatus) else None
    pagination = services.page_of_batches(status, page_number(request.args))

    return render_template(
        "endorsement/index.html",
        pagination=pagination,
        decisions=services.decision_counts(b.id for b in pagination.items),
        counts=services.batch_counts(),
        status=status,
        sessions_waiting=_sessions_waiting(),
        corrected=len(_corrected_waiting()),
        now=clock.now(),
    )


def _submit_scope() -> tuple[ExamSession | None, bool]:
    """Which certificates the submit page offers: one session's, or the re-issued ones."""
    session_id = request.args.get("session", type=int)
    return (get_session(session_id) if session_id else None), bool(request.args.get("corrected"))


def _candidates(exam: ExamSession | None, corrected: bool) -> list[Certificate]:
    if exam is not None:
        return services.submittable(exam)
    if corrected:
        return _corrected_waiting()
    return []


def _submit_chosen(form: SubmitBatchForm, candidates: list[Certificate]) -> EndorsementBatch:
    offered = {c.number: c for c in candidates}
    chosen = list(dict.fromkeys(form.numbers.data))
    gone = [n for n in chosen if n not in offered]
    if gone:
        raise ValidationFailed(
            [
                Problem(
                    "numbers",
                    _(
                        "Certificate %(number)s is no longer waiting to be submitted. "
                        "Check the list again.",
                        number=n[:32],
                    ),
                )
                for n in gone
            ]
        )
    certificates = [offered[n] for n in chosen]
    return services.submit_batch(
        certificates,
        current_user._get_current_object(),
        session=_common_session(certificates),
        note=form.note.data or "",
    )


@bp.route("/submit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def submit():
    """Choose a session (or the re-issued certificates); all are ticked unless ?select=none."""
    exam, corrected = _submit_scope()
    form = SubmitBatchForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                batch = _submit_chosen(form, _candidates(exam, corrected))
            except ValidationFailed as exc:
                show_problems(form, exc)
            except DomainError as exc:
                flash_refusal(exc)
                status = exc.status
            else:
                flash(
                    _(
                        "Batch %(ref)s is submitted to the bureau (certificates: %(n)d).",
                        ref=batch.reference,
                        n=len(batch.items),
                    ),
                    "success",
                )
                return redirect(url_for("endorsement.batch_page", batch_id=batch.id))
    candidates = _candidates(exam, corrected)
    if request.method == "GET":
        none = request.args.get("select") == "none"
        form.numbers.data = [] if none else [c.number for c in candidates]
    return render_template(
        "endorsement/submit.html",
        form=form,
        exam=exam,
        corrected=corrected,
        candidates=candidates,
        chosen=set(form.numbers.data or []),
        enrolments=enrolments_for(candidates),
        sessions_waiting=_sessions_waiting() if exam is None and not corrected else [],
        corrected_count=len(_corrected_waiting()) if exam is None and not corrected else 0,
    ), status


# --- one batch: the office's view and the reviewer's -----------------------------------


@dataclass(frozen=True)
class Row:
    """One certificate of a batch as the pages show it."""

    item: BatchItem
    certificate: Certificate
    enrolment: Enrolment | None
    successor: Certificate | None
    reject_form: RejectForm | None


def _reject_prefix(item: BatchItem) -> str:
    return f"reject-{item.id}"


def _rows(batch: EndorsementBatch, reject_forms: dict[int, RejectForm]) -> list[Row]:
    certificates = [item.certificate for item in batch.items]
    enrolments = enrolments_for(certificates)
    successors = Certificate.successors_of(certificates)
    deciding = current_user.role is Role.HR and batch.status is BatchStatus.SUBMITTED
    rows = []
    for item in batch.items:
        form = None
        if deciding and item.decision is Decision.PENDING:
            form = reject_forms.get(item.id) or RejectForm(
                prefix=_reject_prefix(item), formdata=None
            )
        rows.append(
            Row(
                item=item,
                certificate=item.certificate,
                enrolment=enrolments.get(item.certificate.id),
                successor=successors.get(item.certificate.id),
                reject_form=form,
            )
        )
    return rows


def _batch_page(
    batch: EndorsementBatch,
    *,
    endorse_form: EndorseForm | None = None,
    reject_forms: dict[int, RejectForm] | None = None,
    status: int = 200,
):
    reviewer = current_user.role is Role.HR
    session = db.session.get(ExamSession, batch.session_id) if batch.session_id else None
    rows = _rows(batch, reject_forms or {})
    now = clock.now()
    return render_template(
        "endorsement/review.html" if reviewer else "endorsement/batch.html",
        batch=batch,
        session=session,
        rows=rows,
        counts=batch.counts(),
        can_decide=reviewer and batch.status is BatchStatus.SUBMITTED,
        endorse_form=endorse_form or EndorseForm(formdata=None),
        overdue=batch.status is BatchStatus.SUBMITTED and now > batch.review_due_at,
        corrected_waiting=len(_corrected_waiting()) if not reviewer else 0,
    ), status


@bp.get("/batches/<int:batch_id>")
@role_required(Role.ADMIN, Role.HR)
def batch_page(batch_id: int):
    return _batch_page(services.get_batch(batch_id))


@bp.get("/batches/<int:batch_id>/package.zip")
@role_required(Role.ADMIN, Role.HR)
def download_package(batch_id: int):
    """The exact package the batch was submitted in (hash-checked against the record)."""
    batch = services.get_batch(batch_id)
    data = services.read_package(batch)  # NotFound when missing, Conflict when altered
    return send_private(data, f"{batch.reference}.zip", "application/zip")


@bp.get("/batches/<int:batch_id>/pdf/<number>")
@role_required(Role.ADMIN, Role.HR)
def certificate_pdf(batch_id: int, number: str):
    """A certificate of the batch, shown in the page: the bytes the bureau decides on."""
    item = _item(services.get_batch(batch_id), number)
    certificate = item.certificate
    if certificate.pdf_sha256 != item.pdf_sha256:
        raise Conflict(
            _(
                "Certificate %(number)s changed after it was submitted.",
                number=certificate.number,
            ),
            code="changed_since_submission",
        )
    data = read_pdf(certificate)
    return send_private(data, f"{certificate.number}.pdf", "application/pdf", inline=True)


# --- the bureau: inbox and decisions -----------------------------------------------------


@bp.get("/inbox")
@role_required(Role.HR)
def inbox():
    decided = services.recent_batches(BatchStatus.DECIDED, RECENT_DECIDED)
    return render_template(
        "endorsement/inbox.html",
        rows=deadlines.review_inbox(),
        decided=decided,
        decisions=services.decision_counts(b.id for b in decided),
    )


@bp.post("/batches/<int:batch_id>/endorse")
@role_required(Role.HR)
def endorse(batch_id: int):
    batch = services.get_batch(batch_id)
    form = EndorseForm()
    if not form.validate_on_submit():
        return _batch_page(batch, endorse_form=form, status=422)
    everything = bool(form.endorse_all.data)
    decisions = services.Decisions(
        endorse=set() if everything else set(form.numbers.data),
        endorse_all=everything,
    )
    try:
        decided = services.decide_batch(batch, current_user._get_current_object(), decisions)
    except ValidationFailed as exc:
        show_problems(form, exc)
        return _batch_page(batch, endorse_form=form, status=422)
    except DomainError as exc:
        flash_refusal(exc)
        return _batch_page(batch, status=exc.status)
    flash(_("Certificates endorsed: %(n)d.", n=len(decided)), "success")
    return redirect(url_for("endorsement.batch_page", batch_id=batch.id))


@bp.post("/batches/<int:batch_id>/reject/<number>")
@role_required(Role.HR)
def reject(batch_id: int, number: str):
    batch = services.get_batch(batch_id)
    item = _item(batch, number)
    form = RejectForm(prefix=_reject_prefix(item))
    if not form.validate_on_submit():
        return _batch_page(batch, reject_forms={item.id: form}, status=422)
    decisions = services.Decisions(reject={item.certificate.number: form.reason.data})
    try:
        services.decide_batch(batch, current_user._get_current_object(), decisions)
    except ValidationFailed as exc:
        show_problems(form, exc)
        return _batch_page(batch, reject_forms={item.id: form}, status=422)
    except DomainError as exc:
        flash_refusal(exc)
        return _batch_page(batch, status=exc.status)
    flash(
        _(
            "Certificate %(number)s is rejected. The office is told the reason.",
            number=item.certificate.number,
        ),
        "success",
    )
    return redirect(url_for("endorsement.batch_page", batch_id=batch.id))


# --- the office's deadlines ----------------------------------------------------------------


@bp.get("/deadlines")
@role_required(Role.ADMIN)
def deadline_list():
    include_done = request.args.get("all") == "1"
    return render_template(
        "endorsement/deadlines.html",
        rows=deadlines.session_deadlines(include_done=include_done),
        include_done=include_done,
        results_days=deadlines.results_limit(),
        submission_days=deadlines.submission_limit(),
        due_soon_days=deadlines.DUE_SOON_WORKING_DAYS,
    )
