"""The audit trail pages: read, filter, check the chain, export. Read-only by design.

Other pages link to one subject's history as
`url_for("audit.trail", subject_type="certificates", subject_id=12)`, i.e.
`/audit/?subject_type=certificates&subject_id=12`.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from certify.accounts.models import Role
from certify.audit import display, export, services
from certify.audit.chain import verify_chain
from certify.audit.forms import TrailFilterForm, VerifyForm
from certify.core import clock
from certify.core.auth import role_required
from certify.core.downloads import XLSX, send_private
from certify.extensions import db, limiter

bp = Blueprint("audit", __name__, url_prefix="/audit")
READERS = (Role.ADMIN, Role.HR)
FILTER_ARGS = ("action", "subject_type", "subject_id", "actor", "date_from", "date_to")


def _filters() -> tuple[TrailFilterForm, services.TrailFilter]:
    form = TrailFilterForm(request.args)
    return form, form.trail_filter()


def _filter_args() -> dict[str, str]:
    """The query string's filters, to carry into the cursor and export links."""
    return {key: value for key in FILTER_ARGS if (value := request.args.get(key, "").strip())}


def _cursor(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and value >= 0 else None


@bp.get("/")
@role_required(*READERS)
def trail():
    form, filters = _filters()
    page = services.trail_page(filters, before=_cursor("before"), after=_cursor("after"))
    return render_template(
        "audit/trail.html",
        form=form,
        page=page,
        args=_filter_args(),
        verify_form=VerifyForm(),
        changes=display.describe_changes,
        subject_label=display.subject_label,
        pretty_json=display.pretty_json,
    )


@bp.post("/verify")
@role_required(*READERS)
@limiter.limit("10 per minute")
def verify():
    """Walk the whole chain. Reads every entry, hence the rate limit."""
    form = VerifyForm()
    if not form.validate():
        for message in form.expect_last.errors:
            flash(str(message), "error")
        return redirect(url_for("audit.trail"))
    report = verify_chain(expect_last=form.expect_last.data or None)
    db.session.rollback()
    return render_template(
        "audit/verify.html", report=report, checked_at=clock.now(), verify_form=form
    )


def _streamed_csv(app: Flask, filters: services.TrailFilter) -> Iterator[bytes]:
    """A full export of a large trail never sits in memory: rows go out as they are read.

    The body is produced after the view has returned, so each batch is read in an app context
    (and database session) of its own, closed again before the batch is sent: nothing is
    held open between two writes to a slow client. Entries appended meanwhile are left out.
    """
    with app.app_context():
        upto = services.last_event_id()
    yield export.csv_text([], header=True).encode("utf-8")
    after = 0
    while upto is not None:
        with app.app_context():
            batch = services.events_after(filters, after, upto_id=upto)
            rows = [export.export_row(event) for event in batch]
        if not rows:
            return
        yield export.csv_text(rows).encode("utf-8")
        after = rows[-1][0]


@bp.get("/export.<fmt>")
@role_required(*READERS)
def export_trail(fmt: str):
    if fmt not in export.EXPORT_FORMATS:
        abort(404)
    _form, filters = _filters()
    stamp = clock.local(clock.now()).strftime("%Y%m%d-%H%M")
    filename = f"audit-{stamp}.{fmt}"
    if fmt == "csv":
        db.session.rollback()
        return Response(
            _streamed_csv(current_app._get_current_object(), filters),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    if services.count_events(filters) > export.XLSX_MAX_ROWS:
        db.session.rollback()
        flash(_("Too many entries for one Excel sheet: narrow the filters or export CSV."), "error")
        return redirect(url_for("audit.trail", **_filter_args()))
    out = BytesIO()
    export.write_xlsx(services.iter_events(filters), out)
    db.session.rollback()
    return send_private(out.getvalue(), filename, XLSX)
