"""What each kind of job does, and the registry that names them.

A handler gets its Job (running) and the person who started it, reports progress with
`report()` and commits as it goes, and returns the result to keep. Raising ends the job as
failed with the exception's message; what was committed before stays done.

Handlers must be idempotent, because a failed job is retried from the start: issuing skips
results that already have a certificate, and an export writes its file afresh.

Left inline on purpose:
- endorsement packages: `submit_batch` freezes the certificates and writes the package in
  one transaction, and the PDFs are already rendered, so it is one short request;
- bank imports: a file is at most 20 MB, and the preview-then-confirm flow needs the person
  at the page anyway.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from certify.accounts.models import Role, User
from certify.audit import export as audit_export_format
from certify.audit import services as audit
from certify.audit.models import AuditEvent
from certify.certificates import services as certificates
from certify.core import clock
from certify.core.errors import DomainError, NotFound, Problem, ValidationFailed
from certify.exams.models import ExamSession
from certify.extensions import db
from certify.jobs.models import Job, JobStatus

EXPORT_FOLDER = "exports"
FILTER_KEYS = ("action", "subject_type", "subject_id", "actor")
MAX_FILTER = 64


class JobFailed(DomainError):
    """A handler's own reason to stop; its message is what the page shows."""

    code = "job_failed"
    status = 409


@dataclass(frozen=True)
class Kind:
    name: str
    label: Any  # a lazy string
    handler: Callable[[Job, User | None], dict[str, Any]]
    # Checks the parameters; returns them cleaned, and the key of what the job works on.
    check: Callable[[dict[str, Any]], tuple[dict[str, Any], str]]
    # May it run inside a request when there is no queue? Long kinds say no: their pages
    # drive the work in chunks instead (see certificates.views.issue_all).
    inline: bool
    timeout: int  # seconds a worker gives it
    starters: frozenset[Role]
    result_url: Callable[[Job], str | None]


def report(job: Job, done: int, total: int) -> None:
    """Record progress; the handler's next commit makes it visible to the page."""
    job.report(done, total, clock.now())


# --- issue_certificates -------------------------------------------------------------------


def _check_issue(params: dict[str, Any]) -> tuple[dict[str, Any], str]:
    session_id = params.get("session_id")
    if not isinstance(session_id, int) or isinstance(session_id, bool):
        raise ValidationFailed([Problem("session_id", _("Choose an exam session."))])
    if db.session.get(ExamSession, session_id) is None:
        raise NotFound(_("There is no exam session %(id)s.", id=session_id))
    return {"session_id": session_id}, f"exam_session:{session_id}"


def issue_certificates(job: Job, actor: User | None) -> dict[str, Any]:
    """Issue every eligible final pass of the session, committing after each certificate.

    One person's problem (no ID number on record) does not stop the others; the job then
    fails naming them, and a retry after the fix issues only those still without one.
    """
    exam = db.session.get(ExamSession, job.params["session_id"])
    if exam is None:
        raise JobFailed(_("The exam session no longer exists."))
    total = certificates.count_final_passes(exam)
    done = total - len(certificates.eligible_results(exam))
    report(job, done, total)
    db.session.commit()
    numbers: list[str] = []
    problems: list[str] = []
    for outcome in certificates.issue_pending_certificates(exam, actor):
        if outcome.code == "no_signing_key":
            raise JobFailed(outcome.problems[0])
        if outcome.certificate is None and outcome.code != "already_issued":
            problems.extend(outcome.named_problems)
            continue
        if outcome.certificate is not None:
            numbers.append(outcome.certificate.number)
        done += 1
        report(job, done, total)
        db.session.commit()
    if problems:
        raise JobFailed(
            _(
                "%(n)d certificates could not be issued: %(problems)s",
                n=len(problems),
                problems="; ".join(problems),
            )
        )
    return {"issued": len(numbers), "numbers": numbers, "total": total}


def _issue_result_url(job: Job) -> str | None:
    return url_for("certificates.session_page", session_id=job.params["session_id"])


# --- audit_export -------------------------------------------------------------------------


def _check_audit_export(params: dict[str, Any]) -> tuple[dict[str, Any], str]:
    fmt = params.get("format")
    if fmt not in audit_export_format.EXPORT_FORMATS:
        raise ValidationFailed([Problem("format", _("Choose CSV or Excel."))])
    cleaned: dict[str, Any] = {"format": fmt}
    for key in FILTER_KEYS:
        cleaned[key] = str(params.get(key) or "").strip()[:MAX_FILTER]
    for key in ("date_from", "date_to"):
        value = str(params.get(key) or "").strip()
        try:
            cleaned[key] = date.fromisoformat(value).isoformat() if value else ""
        except ValueError:
            raise ValidationFailed([Problem(key, _("Give a date as YYYY-MM-DD."))]) from None
    return cleaned, ""


def _trail_filter(params: dict[str, Any]) -> audit.TrailFilter:
    return audit.TrailFilter(
        **{key: params.get(key, "") for key in FILTER_KEYS},
        date_from=date.fromisoformat(params["date_from"]) if params.get("date_from") else None,
        date_to=date.fromisoformat(params["date_to"]) if params.get("date_to") else None,
    )


def export_folder() -> Path:
    folder = Path(current_app.instance_path) / EXPORT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def audit_export(job: Job, actor: User | None) -> dict[str, Any]:
    """Write the matching audit entries to a file in the instance folder, a batch at a time.

    Entries appended while it runs are left out (the export ends at the newest entry it saw
    when it began), as in the streamed CSV download.
    """
    fmt = job.params["format"]
    filters = _trail_filter(job.params)
    upto = audit.last_event_id() or 0
    total = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(*filters.where(), AuditEvent.id <= upto)
    )
    if fmt == "xlsx" and total > audit_export_format.XLSX_MAX_ROWS:
        raise JobFailed(
            _("Too many entries for one Excel sheet: narrow the filters or export CSV.")
        )
    report(job, 0, total)
    db.session.commit()

    def events() -> Iterator[AuditEvent]:
        after, done = 0, 0
        while True:
            batch = audit.events_after(filters, after, upto_id=upto)
            if not batch:
                return
            yield from batch
            done, after = done + len(batch), batch[-1].id
            # The writer has used every entry of the batch by now: safe to commit.
            report(job, done, max(total, done))
            db.session.commit()

    name = f"audit-{job.id}-{secrets.token_hex(8)}.{fmt}"
    folder = export_folder()
    partial = folder / f"{name}.part"
    try:
        with partial.open("wb") as out:
            if fmt == "csv":
                audit_export_format.write_csv(events(), out)
            else:
                audit_export_format.write_xlsx(events(), out)
        os.replace(partial, folder / name)
    finally:
        partial.unlink(missing_ok=True)
    stamp = clock.local(job.created_at).strftime("%Y%m%d-%H%M")
    return {"file": name, "filename": f"audit-{stamp}.{fmt}", "rows": total, "format": fmt}


def _export_result_url(job: Job) -> str | None:
    if job.status is JobStatus.DONE:
        return url_for("jobs.download", job_id=job.id)
    return None


# --- the registry ---------------------------------------------------------------------------

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            name="issue_certificates",
            label=_l("Issue certificates"),
            handler=issue_certificates,
            check=_check_issue,
            inline=False,
            timeout=6 * 60 * 60,  # about 1.5 s a certificate: thousands fit
            starters=frozenset({Role.ADMIN}),
            result_url=_issue_result_url,
        ),
        Kind(
            name="audit_export",
            label=_l("Audit trail export"),
            handler=audit_export,
            check=_check_audit_export,
            inline=True,  # as long as today's direct download: fine inside a request
            timeout=2 * 60 * 60,
            starters=frozenset({Role.ADMIN, Role.HR}),
            result_url=_export_result_url,
        ),
    )
}


def get_kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound(_("There is no kind of job called %(name)s.", name=name[:32]))
    return kind
