"""Certificate pages: the worker's own certificates, and the office's issuing and register.

Downloads always serve the stored, hash-checked bytes (`services.read_pdf`); a correction
is a re-issue, never a re-render. The portable credential and the issuer profile are JSON
for wallets and verifiers; see `credentials.py`.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from certify.accounts.models import Role, User
from certify.audit.models import AuditEvent
from certify.certificates import credentials, services
from certify.certificates.forms import ReissueForm, RevokeForm
from certify.certificates.models import (
    REVOCATION_LABELS,
    STATUS_LABELS,
    Certificate,
    CertificateStatus,
    RevocationReason,
)
from certify.core import clock
from certify.core.auth import role_required
from certify.core.downloads import send_private
from certify.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from certify.core.forms import flash_refusal, page_number, safe_next, show_problems
from certify.core.pdf import qr_data_uri
from certify.core.security import PRIVATE
from certify.core.storage import read_checked
from certify.core.transactions import discard_changes
from certify.exams.models import ExamSession
from certify.exams.services import get_session
from certify.extensions import db
from certify.jobs import services as jobs
from certify.jobs.queue import queue_configured, usable_queue
from certify.results.models import Result

bp = Blueprint("certificates", __name__, url_prefix="/certificates")

PAGE_BATCH_SIZE = 40  # about 15 s of rendering
CHUNK_SIZE = 10  # certificates per "issue all" request: a PDF each, so keep requests short
PER_PAGE = 50
ISSUE_JOB = "issue_certificates"
# What the history shows of an event's "after" record, and under which words.
DETAIL_KEYS = {
    "code": _l("Reason shown publicly"),
    "reason": _l("Reason"),
    "superseded_by": _l("Replaced by"),
    "body": _l("Endorsing body"),
}
PUBLIC_JSON = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}


@bp.app_context_processor
def revocation_choices() -> dict[str, object]:
    """The fixed public reasons, for every page with a revoke form (the reviewers' too)."""
    return {"revocation_labels": REVOCATION_LABELS}


# --- finding a certificate -------------------------------------------------------------


def _certificate(number: str) -> Certificate:
    certificate = services.find_certificate(number)
    if certificate is None:
        raise NotFound(_("There is no certificate %(number)s.", number=number[:32]))
    return certificate


def _viewable(number: str) -> Certificate:
    """Admins see every certificate; a worker only their own (others look absent)."""
    certificate = services.find_certificate(number)
    if certificate is None or (
        current_user.role is not Role.ADMIN and certificate.user_id != current_user.id
    ):
        raise NotFound(_("There is no certificate %(number)s.", number=number[:32]))
    return certificate


# --- the worker ------------------------------------------------------------------------


@bp.get("/mine")
@role_required(Role.WORKER)
def my_certificates():
    mine = services.certificates_of(current_user)
    shares = {}
    for certificate in mine:
        if not certificate.is_revoked:
            url = services.verify_url(certificate)
            shares[certificate.id] = (url, qr_data_uri(url, box_size=6))
    return render_template(
        "certificates/mine.html",
        certificates=mine,
        shares=shares,
        successors=Certificate.successors_of(mine),
    )


@bp.get("/<number>/pdf")
@role_required(Role.WORKER, Role.ADMIN)
def download_pdf(number: str):
    certificate = _viewable(number)
    data = services.read_pdf(certificate)
    return send_private(data, f"{certificate.number}.pdf", "application/pdf")


@bp.get("/<number>/credential.json")
@role_required(Role.WORKER, Role.ADMIN)
def download_credential(number: str):
    """A freshly signed Open Badges credential; revoked certificates get none."""
    certificate = _viewable(number)
    if certificate.is_revoked:
        raise Conflict(
            _(
                "Certificate %(number)s is revoked, so it has no digital credential.",
                number=certificate.number,
            ),
            code="certificate_revoked",
        )
    document = credentials.build_credential(certificate)
    body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    return send_private(body, f"{certificate.number}.json", "application/json")


# --- public JSON for wallets and verifiers ---------------------------------------------


@bp.get("/issuer")
def issuer_profile():
    """The issuer's Open Badges profile with every public key, retired ones included."""
    response = jsonify(credentials.issuer_profile())
    response.headers.update(PUBLIC_JSON)
    return response


@bp.get("/<number>/status")
def credential_status(number: str):
    """The credential's revocation status, in the shape of a 1EdTech Revocation List.

    `revokedCredentials` is what 1EdTech verifiers read; `revoked`, `status` and `reason`
    are the same answer in plain form. No personal data: number, status and the public
    reason (one of the fixed list, never the office's note) only.
    """
    certificate = services.find_certificate(number)
    if certificate is None:
        message = _("There is no certificate %(number)s.", number=number[:32])
        response = jsonify({"error": {"code": "not_found", "message": message}})
        response.status_code = 404
    else:
        revoked = certificate.is_revoked
        public = certificate.public_revocation
        label = public.label if public else None
        response = jsonify(
            {
                "id": credentials.status_id(certificate),
                "issuer": credentials.issuer_id(),
                "revokedCredentials": (
                    [
                        {
                            "id": credentials.credential_id(certificate),
                            "revocationReason": label,
                        }
                    ]
                    if revoked
                    else []
                ),
                "revoked": revoked,
                "status": certificate.status.value,
                "reason": label,
                "reason_code": public.value if public else None,
            }
        )
    response.headers.update(PUBLIC_JSON)
    return response


# --- the office: one exam session --------------------------------------------------------


def _issue_some(exam: ExamSession, limit: int) -> tuple[list[str], list[str]]:
    """Issue up to `limit` certificates in this request; the new numbers and the problems."""
    numbers: list[str] = []
    problems: list[str] = []
    actor = current_user._get_current_object()
    for outcome in services.issue_pending_certificates(exam, actor, limit=limit):
        if outcome.certificate is not None:
            numbers.append(outcome.certificate.number)
        elif outcome.code != "already_issued":  # another run issued it a moment ago
            problems.extend(outcome.named_problems)
    return numbers, problems


@bp.get("/sessions/<int:session_id>")
@role_required(Role.ADMIN)
def session_page(session_id: int):
    exam = get_session(session_id)
    pending = services.eligible_results(exam)
    total = services.count_final_passes(exam)
    job = jobs.latest_job(ISSUE_JOB, f"exam_session:{exam.id}")
    return render_template(
        "certificates/session.html",
        exam=exam,
        certificates=services.session_certificates(exam),
        pending=pending,
        total=total,
        issued=total - len(pending),
        issue_job=jobs.seen_job(job) if job else None,
        background=usable_queue() is not None,
    )


@bp.post("/sessions/<int:session_id>/issue")
@role_required(Role.ADMIN)
def issue_all(session_id: int):
    """With a job queue: start (or find) the session's issue job, and show its progress.

    Without one, `chunk=1` (the page's script) issues the next few and answers JSON; a plain
    post issues a batch and comes back. A queue that stops answering falls back to the batch.
    """
    exam = get_session(session_id)
    if queue_configured() and not request.form.get("chunk"):
        try:
            jobs.start_job(ISSUE_JOB, {"session_id": exam.id}, current_user._get_current_object())
        except jobs.QueueUnavailable:
            discard_changes()
            flash(
                _(
                    "The background queue is not available, so certificates are issued here, "
                    "a batch at a time."
                ),
                "warning",
            )
        else:
            flash(_("Issuing runs in the background; this page shows how far it got."), "info")
            return redirect(url_for("certificates.session_page", session_id=exam.id))
    if request.form.get("chunk"):
        numbers, problems = _issue_some(exam, CHUNK_SIZE)
        remaining = len(services.eligible_results(exam))
        return jsonify(
            issued=len(numbers),
            remaining=remaining,
            total=services.count_final_passes(exam),
            numbers=numbers,
            problems=problems,
        )
    # Without the script: a batch a request, so a large class never outlasts the server's timeout.
    numbers, problems = _issue_some(exam, PAGE_BATCH_SIZE)
    if numbers:
        flash(_("%(n)d certificates issued.", n=len(numbers)), "success")
    remaining = len(services.eligible_results(exam))
    if numbers and remaining:
        flash(_("%(n)d still to issue: press the button again.", n=remaining), "info")
    for problem in problems:
        flash(problem, "error")
    if not numbers and not problems:
        flash(_("Every final pass of this session already has its certificate."), "info")
    return redirect(url_for("certificates.session_page", session_id=exam.id))


class _Sink:
    """A write-only file for ZipFile: collects the bytes until the response takes them."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


@dataclass(frozen=True)
class ZipEntry:
    name: str
    path: Path
    sha256: str
    made: tuple[int, int, int, int, int, int]


def _zip_entries(certificates: list[Certificate]) -> list[ZipEntry]:
    """Check every stored file first (a clear message beats a broken download)."""
    entries = []
    for certificate in certificates:
        services.read_pdf(certificate)  # raises NotFound / Conflict with the number
        made = clock.local(certificate.created_at).timetuple()[:6]
        entries.append(
            ZipEntry(
                f"{certificate.number}.pdf",
                services.pdf_path(certificate),
                certificate.pdf_sha256,
                made,
            )
        )
    return entries


def _zip_stream(entries: list[ZipEntry]) -> Iterator[bytes]:
    """The ZIP, one PDF at a time; needs no app context or database while it streams."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for entry in entries:
            data = read_checked(entry.path, entry.sha256)  # AlteredFile if changed since
            archive.writestr(zipfile.ZipInfo(entry.name, date_time=entry.made), data)
            yield sink.take()
    yield sink.take()


@bp.get("/sessions/<int:session_id>/certificates.zip")
@role_required(Role.ADMIN)
def session_zip(session_id: int):
    """Every valid certificate of the session as NUMBER.pdf; revoked ones are left out."""
    exam = get_session(session_id)
    valid = [c for c in services.session_certificates(exam) if not c.is_revoked]
    back = redirect(url_for("certificates.session_page", session_id=exam.id))
    if not valid:
        flash(_("There are no certificates to download yet."), "info")
        return back
    try:
        entries = _zip_entries(valid)
    except DomainError as exc:
        flash(exc.message, "error")
        return back
    filename = f"certificates-{exam.id}.zip"
    return Response(
        _zip_stream(entries),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **PRIVATE},
    )


# --- the office: the register and one certificate --------------------------------------


@bp.get("/")
@role_required(Role.ADMIN)
def certificate_list():
    query = (request.args.get("q") or "").strip()[:64]
    status = request.args.get("status", "")
    page = page_number(request.args)
    select = sa.select(Certificate).order_by(Certificate.created_at.desc(), Certificate.id.desc())
    if query:
        like = f"%{query}%"
        select = select.where(
            sa.or_(
                Certificate.number.ilike(like),
                Certificate.holder_name.like(like),
                Certificate.id_number == query.upper(),
            )
        )
    if status in set(CertificateStatus):
        select = select.where(Certificate.status == CertificateStatus(status))
    pagination = db.paginate(select, page=page, per_page=PER_PAGE, error_out=False)

    return render_template(
        "certificates/list.html",
        pagination=pagination,
        query=query,
        status=status,
        statuses=STATUS_LABELS,
    )


@dataclass(frozen=True)
class HistoryRow:
    event: AuditEvent
    label: str
    details: list[tuple[str, str]]


def _detail_value(key: str, value: object) -> str:
    """A recorded value in words: the public reason's code by its label."""
    if key == "code":
        try:
            return RevocationReason(value).label
        except ValueError:
            pass
    return str(value)


def _history(certificate: Certificate) -> list[HistoryRow]:
    """The certificate's audit events, labelled by the status they led to."""
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.subject_type == Certificate.__tablename__,
            AuditEvent.subject_id == str(certificate.id),
        )
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    rows = []
    for event in events:
        after = event.after if isinstance(event.after, dict) else {}
        status = after.get("status") or event.action.rsplit(".", 1)[-1]
        label = STATUS_LABELS.get(status) if status in set(CertificateStatus) else None
        details = [
            (str(DETAIL_KEYS[key]), _detail_value(key, value))
            for key, value in after.items()
            if key in DETAIL_KEYS and value not in (None, "")
        ]
        rows.append(HistoryRow(event, str(label or event.action), details))
    return rows


def _detail(certificate: Certificate, revoke: RevokeForm, reissue: ReissueForm, status=200):
    successor = Certificate.successors_of([certificate]).get(certificate.id)
    result = db.session.get(Result, certificate.result_id)
    return (
        render_template(
            "certificates/detail.html",
            certificate=certificate,
            history=_history(certificate),
            successor=successor,
            session=result.session if result else None,
            issued_by=db.session.get(User, certificate.issued_by_id)
            if certificate.issued_by_id
            else None,
            verify_url=services.verify_url(certificate),
            revoke=revoke,
            reissue=reissue,
        ),
        status,
    )


@bp.get("/<number>")
@role_required(Role.ADMIN)
def certificate_detail(number: str):
    certificate = _certificate(number)
    return _detail(certificate, RevokeForm(prefix="revoke"), ReissueForm(prefix="reissue"))


@bp.post("/<number>/revoke")
@role_required(Role.ADMIN, Role.HR)
def revoke(number: str):
    """Admins revoke from the detail page; the bureau's reviewers (hr) from the endorsement
    pages, which send `next` to return to (they have no detail page: problems are flashed).
    Reviewers may revoke only what was submitted to the bureau (the service refuses the rest)."""
    certificate = _certificate(number)
    form = RevokeForm(prefix="revoke")
    reviewer = current_user.role is Role.HR
    if reviewer and form.code.name not in request.form:
        # The reviewers' page (templates/endorsement/review.html) offers no choice of public
        # reason yet: theirs is "other", never the note they typed.
        form.code.data = RevocationReason.OTHER.value
    back = (
        safe_next(request.form.get("next"), url_for("endorsement.inbox"))
        if reviewer
        else url_for("certificates.certificate_detail", number=certificate.number)
    )
    if not form.validate_on_submit():
        if reviewer:
            for errors in form.errors.values():
                for error in errors:
                    flash(str(error), "error")
            return redirect(back)
        return _detail(certificate, form, ReissueForm(prefix="reissue"), 422)
    try:
        services.revoke_certificate(
            certificate.number,
            form.reason.data,
            actor=current_user._get_current_object(),
            code=form.code.data,
        )
    except ValidationFailed as exc:
        discard_changes()
        if reviewer:
            for problem in exc.problems:
                flash(problem.message, "error")
            return redirect(back)
        show_problems(form, exc)
        return _detail(certificate, form, ReissueForm(prefix="reissue"), 422)
    except DomainError as exc:
        flash_refusal(exc)
    else:
        flash(_("Certificate %(number)s is revoked.", number=certificate.number), "success")
    return redirect(back)


@bp.post("/<number>/reissue")
@role_required(Role.ADMIN)
def reissue(number: str):
    certificate = _certificate(number)
    form = ReissueForm(prefix="reissue")
    if not form.validate_on_submit():
        return _detail(certificate, RevokeForm(prefix="revoke"), form, 422)
    try:
        new = services.reissue_certificate(certificate, form.reason.data, actor=current_user)
    except ValidationFailed as exc:
        show_problems(form, exc)
        return _detail(certificate, RevokeForm(prefix="revoke"), form, 422)
    except DomainError as exc:
        flash_refusal(exc)
        return redirect(url_for("certificates.certificate_detail", number=certificate.number))
    flash(
        _(
            "Certificate %(new)s is issued and replaces %(old)s, which is now revoked.",
            new=new.number,
            old=certificate.number,
        ),
        "success",
    )
    return redirect(url_for("certificates.certificate_detail", number=new.number))
