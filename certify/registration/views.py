"""报名 pages, public and phone first, and the office's 资格审核 pages.

The public side needs no account: an applicant gets a reference number, which opens their
status page (待审核 / 通过 / 退回 with the reason), and corrects a returned application by
typing their ID number again. The office reviews each application beside its photo.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from certify.accounts.models import Role
from certify.catalog.services import list_trades
from certify.cohorts.forms import parse_track, track_choices
from certify.cohorts.models import Cohort, CohortStatus
from certify.core import clock
from certify.core.auth import role_required
from certify.core.blobs import read_blob
from certify.core.downloads import XLSX, send_private
from certify.core.forms import ConfirmForm, accept_form, flash_outcome, flash_posted_form
from certify.extensions import db, limiter
from certify.registration import services
from certify.registration.exports import approved_roster_xlsx
from certify.registration.forms import (
    AnnouncementForm,
    ApplicationForm,
    ApproveForm,
    CorrectionForm,
    ReferenceForm,
    ReturnForm,
)
from certify.registration.models import ApplicationStatus

bp = Blueprint("registration", __name__)
OFFICE = (Role.ADMIN,)


# --- public: 报名 --------------------------------------------------------------------------


@bp.get("/register")
def index():
    return render_template(
        "registration/index.html",
        announcements=services.open_announcements(),
        lookup=ReferenceForm(request.args),
    )


@bp.get("/register/status")
def lookup():
    form = ReferenceForm(request.args)
    if not form.validate():
        return redirect(url_for("registration.index"))
    return redirect(url_for("registration.status", reference=form.reference.data.strip()))


def _posted(form: ApplicationForm, save):
    """Run the service; the spec-named problems land on the form's fields."""
    return accept_form(form, save, fields=ApplicationForm.FIELD_OF_COLUMN)


def _photo_bytes(form: ApplicationForm) -> bytes:
    upload = form.photo.data
    return upload.read() if upload and getattr(upload, "filename", "") else b""


@bp.route("/register/<int:announcement_id>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def apply(announcement_id: int):
    announcement = services.get_announcement(announcement_id)
    form = ApplicationForm()
    form.basis.choices = [SelectChoice(c, c) for c in services.basis_choices(announcement)]
    accepting = announcement.accepting(clock.now())
    if accepting and (
        done := _posted(
            form,
            lambda: services.submit_application(announcement, form.fields(), _photo_bytes(form)),
        )
    ):
        flash(_("Your application is in. Keep your reference number."), "success")
        return redirect(url_for("registration.status", reference=done.value.reference))
    return render_template(
        "registration/apply.html", announcement=announcement, form=form, accepting=accepting
    )


@bp.get("/register/status/<reference>")
def status(reference: str):
    application = services.find_application(reference)
    return render_template("registration/status.html", application=application)


@bp.get("/register/status/<reference>/photo")
def status_photo(reference: str):
    application = services.find_application(reference)
    return send_private(read_blob(application.photo), "photo.jpg", "image/jpeg", inline=True)


@bp.route("/register/status/<reference>/correct", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def correct(reference: str):
    application = services.find_application(reference)
    if application.status is not ApplicationStatus.RETURNED:
        return redirect(url_for("registration.status", reference=application.reference))
    form = CorrectionForm()
    form.basis.choices = [
        SelectChoice(c, c) for c in services.basis_choices(application.announcement)
    ]
    form.fill_from(application)
    photo = _photo_bytes(form) or None
    if _posted(form, lambda: services.resubmit_application(application, form.fields(), photo)):
        flash(_("Your corrected application is in. The office will look at it again."), "success")
        return redirect(url_for("registration.status", reference=application.reference))
    return render_template("registration/correct.html", application=application, form=form)


# --- the office: 资格审核 -----------------------------------------------------------------------


def _cohort_choices(trade_id: int | None = None, level: int | None = None) -> list[SelectChoice]:
    cohorts = db.session.scalars(
        db.select(Cohort)
        .where(Cohort.status != CohortStatus.CLOSED)
        .order_by(Cohort.created_at.desc())
    )
    return [
        SelectChoice(str(c.id), c.name)
        for c in cohorts
        if trade_id is None or (c.trade_id == trade_id and c.level == level)
    ]


@bp.route("/registration/", methods=["GET", "POST"])
@role_required(*OFFICE)
def announcements():
    form = AnnouncementForm()
    form.track.choices = track_choices(list_trades())
    form.cohort.choices = [SelectChoice("", "—"), *_cohort_choices()]

    def save():
        trade, level = parse_track(form.track.data)
        cohort = db.session.get(Cohort, int(form.cohort.data)) if form.cohort.data else None
        return services.create_announcement(
            trade,
            services.AnnouncementData(
                title=form.title.data,
                level=level,
                opens_at=_local(form.opens_at.data),
                closes_at=_local(form.closes_at.data),
                conditions=form.conditions.data or "",
                exam_note=form.exam_note.data or "",
                cohort=cohort,
            ),
            actor=current_user,
        )

    if done := accept_form(form, save):
        flash(_("The announcement is saved as a draft. Open it when it is right."), "success")
        return redirect(url_for("registration.announcement", announcement_id=done.value.id))
    return render_template(
        "registration/announcements.html",
        announcements=services.list_announcements(),
        form=form,
        action_form=ConfirmForm(),
    )


def _local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=clock.LOCAL_TZ)


@bp.post("/registration/<int:announcement_id>/<any(open, close):action>")
@role_required(*OFFICE)
def announcement_action(announcement_id: int, action: str):
    announcement = services.get_announcement(announcement_id)
    ConfirmForm().validate_on_submit()
    act = services.open_announcement if action == "open" else services.close_announcement
    flash_outcome(
        lambda: act(announcement, actor=current_user),
        lambda _done: _("The announcement is now: %(status)s.", status=announcement.status.label),
    )
    return redirect(url_for("registration.announcement", announcement_id=announcement_id))


@bp.get("/registration/<int:announcement_id>")
@role_required(*OFFICE)
def announcement(announcement_id: int):
    announcement = services.get_announcement(announcement_id)
    wanted = request.args.get("status", ApplicationStatus.PENDING.value)
    status = next((s for s in ApplicationStatus if s.value == wanted), None)
    applications = services.applications_of(announcement, status)
    approve = ApproveForm()
    approve.cohort.choices = _cohort_choices(announcement.trade_id, announcement.level)
    if announcement.cohort_id:
        approve.cohort.data = str(announcement.cohort_id)
    return render_template(
        "registration/announcement.html",
        announcement=announcement,
        applications=applications,
        flags=services.review_flags(announcement, applications),
        status=status,
        counts=services.count_applications(announcement),
        approve=approve,
        send_back=ReturnForm(),
        action_form=ConfirmForm(),
    )


@bp.get("/registration/<int:announcement_id>/approved.xlsx")
@role_required(*OFFICE)
def approved_roster(announcement_id: int):
    announcement = services.get_announcement(announcement_id)
    return send_private(approved_roster_xlsx(announcement), "资格审核通过人员名册.xlsx", XLSX)


@bp.get("/registration/applications/<int:application_id>/photo")
@role_required(*OFFICE)
def application_photo(application_id: int):
    application = services.get_application(application_id)
    return send_private(read_blob(application.photo), "photo.jpg", "image/jpeg", inline=True)


@bp.post("/registration/applications/<int:application_id>/approve")
@role_required(*OFFICE)
def approve(application_id: int):
    application = services.get_application(application_id)
    form = ApproveForm()
    form.cohort.choices = _cohort_choices()

    def save():
        cohort = db.session.get(Cohort, int(form.cohort.data)) if form.cohort.data else None
        services.approve_application(application, cohort, current_user)

    flash_posted_form(
        form, save, _("%(name)s is approved and in the class.", name=application.name)
    )
    return redirect(
        url_for("registration.announcement", announcement_id=application.announcement_id)
    )


@bp.post("/registration/applications/<int:application_id>/return")
@role_required(*OFFICE)
def send_back(application_id: int):
    application = services.get_application(application_id)
    form = ReturnForm()
    flash_posted_form(
        form,
        lambda: services.return_application(application, form.reason.data, current_user),
        _("The application is returned; the applicant sees why on their status page."),
    )
    return redirect(
        url_for("registration.announcement", announcement_id=application.announcement_id)
    )
