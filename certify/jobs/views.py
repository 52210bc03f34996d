"""Job pages: the JSON status a page polls, retry, the job page, and export downloads.

A job is visible to the person who started it and to admins; to anyone else it does not
exist (404), so job numbers reveal nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from certify.accounts.models import Role
from certify.core.auth import role_required
from certify.core.downloads import send_private
from certify.core.errors import DomainError, NotFound
from certify.core.forms import flash_refusal, safe_next
from certify.core.security import PRIVATE
from certify.core.transactions import discard_changes
from certify.core.views import wants_json
from certify.jobs import kinds, services
from certify.jobs.models import Job, JobStatus

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
AUDIT_FILTERS = ("action", "subject_type", "subject_id", "actor", "date_from", "date_to")


def job_payload(job: Job | services.SeenJob) -> dict[str, Any]:
    """What a polling page needs: state, progress, the reason of a failure, where to go next."""
    kind = kinds.KINDS.get(job.kind)
    return {
        "id": job.id,
        "kind": job.kind,
        "status": str(job.status),
        "status_label": job.status_label,
        "done": job.done,
        "total": job.total,
        "error": job.error,
        "attempts": job.attempts,
        "result_url": kind.result_url(job) if kind and job.status is JobStatus.DONE else None,
        "retry_url": url_for("jobs.retry", job_id=job.id)
        if job.status is JobStatus.FAILED
        else None,
    }


def _json(body: dict[str, Any], status: int = 200):
    response = jsonify(body)
    response.status_code = status
    response.headers.update(PRIVATE)
    return response


def _error_json(exc: DomainError):
    return _json({"error": {"code": exc.code, "message": exc.message}}, exc.status)


@bp.get("/")
@role_required()
def job_list():
    return render_template("jobs/list.html", jobs=services.recent_jobs(current_user), kinds=kinds)


@bp.get("/<int:job_id>")
@role_required()
def job_status(job_id: int):
    try:
        job = services.seen_job(services.visible_job(job_id, current_user))
    except DomainError as exc:
        return _error_json(exc)
    return _json(job_payload(job))


@bp.get("/<int:job_id>/view")
@role_required()
def job_page(job_id: int):
    job = services.seen_job(services.visible_job(job_id, current_user))
    kind = kinds.KINDS.get(job.kind)
    return render_template(
        "jobs/job.html",
        job=job,
        kind=kind,
        result_url=kind.result_url(job) if kind and job.status is JobStatus.DONE else None,
    )


@bp.post("/<int:job_id>/retry")
@role_required()
def retry(job_id: int):
    """JSON for the page's script; a redirect to `next` (or the job's page) for a plain form."""
    back = safe_next(request.form.get("next"), url_for("jobs.job_page", job_id=job_id))
    job = services.visible_job(job_id, current_user)
    try:
        job = services.retry_job(job)
    except DomainError as exc:
        discard_changes()
        if wants_json():
            return _error_json(exc)
        flash(exc.message, "error")
        return redirect(back)
    if wants_json():
        return _json(job_payload(job))
    flash(_("The job is running again."), "success")
    return redirect(back)


@bp.get("/<int:job_id>/download")
@role_required()
def download(job_id: int):
    """The file a finished export wrote, under the name it was meant to have."""
    job = services.visible_job(job_id, current_user)
    name = (job.result or {}).get("file") if job.status is JobStatus.DONE else None
    path = kinds.export_folder() / Path(name).name if name else None
    if path is None or not path.is_file():
        raise NotFound(_("This job has no file to download."), code="no_file")
    return send_private(path, job.result["filename"])


@bp.post("/audit-export")
@role_required(Role.ADMIN, Role.HR)
def start_audit_export():
    """Export the audit trail with the trail page's filters, as a job; then show its page."""
    params = {key: request.form.get(key, "") for key in AUDIT_FILTERS}
    params["format"] = request.form.get("format", "csv")
    try:
        job = services.start_job("audit_export", params, current_user._get_current_object())
    except DomainError as exc:
        flash_refusal(exc)
        args = {key: value for key, value in params.items() if value and key in AUDIT_FILTERS}
        return redirect(url_for("audit.trail", **args))
    return redirect(url_for("jobs.job_page", job_id=job.id))
