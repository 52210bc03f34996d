from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from certify.accounts.models import Role, User
from certify.banks.forms import area_choices
from certify.catalog.models import KnowledgeArea, Trade
from certify.catalog.services import list_trades
from certify.cohorts import services
from certify.cohorts.dashboard import build_dashboard, dashboard_xlsx
from certify.cohorts.forms import (
    CohortForm,
    ConfirmRosterForm,
    MaterialForm,
    RosterForm,
    RuleForm,
    SessionForm,
    parse_track,
    track_choices,
)
from certify.cohorts.models import EligibilityRule
from certify.cohorts.slips import render_login_slips
from certify.core import clock
from certify.core.auth import role_required
from certify.core.downloads import XLSX, send_private
from certify.core.errors import DomainError, ValidationFailed
from certify.core.forms import (
    ConfirmForm,
    accept_form,
    flash_outcome,
    flash_posted_form,
    show_problems,
)
from certify.core.storage import discard_upload, fetch_upload, keep_upload
from certify.core.tables import UnusableFile
from certify.core.transactions import discard_changes
from certify.exams.models import ExamSession
from certify.extensions import db
from certify.training import services as training
from certify.training.models import Material

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts")
MANAGERS = (Role.ADMIN, Role.TRAINER)
UPLOAD_KIND = "rosters"


def _my_trades() -> list[Trade]:
    trades = list_trades()
    return (
        trades
        if current_user.role is Role.ADMIN
        else [t for t in trades if t in current_user.trades]
    )


def _trainer_choices(form: CohortForm) -> None:
    trainers = db.session.scalars(
        sa.select(User).where(User.role == Role.TRAINER, User.active.is_(True)).order_by(User.name)
    )
    form.trainers.choices = [SelectChoice(str(u.id), u.display_name) for u in trainers]


def _cohort(cohort_id: int):
    return services.managed_cohort(current_user, cohort_id)


@bp.get("/")
@role_required(*MANAGERS)
def index():
    return render_template("cohorts/index.html", cohorts=services.visible_cohorts(current_user))


def _cohort_data(form: CohortForm, trainer_ids: list[int]) -> services.CohortData:
    _trade, level = parse_track(form.track.data)
    return services.CohortData(
        form.name.data, level, form.capacity.data, form.exam_note.data or "", trainer_ids
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def create():
    form = CohortForm()
    form.track.choices = track_choices(_my_trades())
    _trainer_choices(form)
    if not form.is_submitted() and current_user.role is Role.TRAINER:
        form.trainers.data = [str(current_user.id)]
    if form.validate_on_submit():
        trade, _level = parse_track(form.track.data)
        if trade not in _my_trades():
            abort(403)
        ids = [int(i) for i in form.trainers.data or []]
        if current_user.role is Role.TRAINER and current_user.id not in ids:
            ids.append(current_user.id)  # a trainer's new class is theirs
        try:
            cohort = services.create_cohort(trade, _cohort_data(form, ids), actor=current_user)
        except ValidationFailed as exc:
            show_problems(form, exc)
        else:
            flash(_("The class is created. Now import its roster."), "success")
            return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    return render_template("cohorts/form.html", form=form, cohort=None)


@bp.route("/<int:cohort_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit(cohort_id: int):
    cohort = _cohort(cohort_id)
    form = CohortForm(obj=cohort)
    form.track.choices = track_choices([cohort.trade])
    _trainer_choices(form)
    if not form.is_submitted():
        form.track.data = f"{cohort.trade_id}:{cohort.level or ''}"
        form.trainers.data = [str(t.id) for t in cohort.trainers]
    if accept_form(
        form,
        lambda: services.update_cohort(
            cohort,
            _cohort_data(form, [int(i) for i in form.trainers.data or []]),
            actor=current_user,
        ),
    ):
        flash(_("The class is saved."), "success")
        return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    return render_template("cohorts/form.html", form=form, cohort=cohort)


@bp.get("/<int:cohort_id>")
@role_required(*MANAGERS)
def detail(cohort_id: int):
    cohort = _cohort(cohort_id)
    enrolments = sorted(cohort.enrolments, key=lambda e: (e.user.name, e.id))
    exam_sessions = db.session.scalars(
        sa.select(ExamSession)
        .where(ExamSession.cohort_id == cohort.id)
        .order_by(ExamSession.opens_at)
    ).all()
    return render_template(
        "cohorts/detail.html",
        cohort=cohort,
        exam_sessions=exam_sessions,
        enrolments=enrolments,
        session_form=SessionForm(),
        action_form=ConfirmForm(),
    )


@bp.post("/<int:cohort_id>/advance")
@role_required(*MANAGERS)
def advance(cohort_id: int):
    cohort = _cohort(cohort_id)
    flash_outcome(
        lambda: services.advance_cohort(cohort, actor=current_user),
        lambda _done: _("The class is now: %(status)s.", status=cohort.status.label),
    )
    return redirect(url_for("cohorts.detail", cohort_id=cohort_id))


@bp.post("/<int:cohort_id>/sessions")
@role_required(*MANAGERS)
def add_session(cohort_id: int):
    cohort = _cohort(cohort_id)
    form = SessionForm()

    def save() -> None:
        starts = datetime.combine(form.day.data, form.start.data, tzinfo=clock.LOCAL_TZ)
        ends = datetime.combine(form.day.data, form.end.data, tzinfo=clock.LOCAL_TZ)
        services.add_session(cohort, starts, ends, form.place.data, form.topic.data)

    flash_posted_form(form, save, _("The session is on the schedule."))
    return redirect(url_for("cohorts.detail", cohort_id=cohort_id) + "#schedule")


@bp.post("/<int:cohort_id>/sessions/<int:session_id>/delete")
@role_required(*MANAGERS)
def delete_session(cohort_id: int, session_id: int):
    services.remove_session(_cohort(cohort_id), session_id)
    return redirect(url_for("cohorts.detail", cohort_id=cohort_id) + "#schedule")


@bp.route("/<int:cohort_id>/roster", methods=["GET", "POST"])
@role_required(*MANAGERS)
def roster(cohort_id: int):
    cohort = _cohort(cohort_id)
    form = RosterForm()
    if form.validate_on_submit():
        upload = form.file.data
        filename, data = upload.filename or "roster", upload.read()
        try:
            report = services.enrol_roster(cohort, filename, data, dry_run=True)
        except UnusableFile as exc:
            form.file.errors = [f"{exc.filename}: {exc.message}"]
            return render_template("cohorts/roster.html", cohort=cohort, form=form), 422
        except DomainError as exc:
            form.file.errors = [exc.message]
            return render_template("cohorts/roster.html", cohort=cohort, form=form), 409
        confirm = None
        if not report.problems and report.to_enrol:
            token = keep_upload(UPLOAD_KIND, data, {"filename": filename, "cohort": cohort.id})
            confirm = ConfirmRosterForm(token=token)
        return render_template(
            "cohorts/roster_preview.html", cohort=cohort, report=report, confirm=confirm
        )
    return render_template("cohorts/roster.html", cohort=cohort, form=form)


@bp.post("/<int:cohort_id>/roster/confirm")
@role_required(*MANAGERS)
def roster_confirm(cohort_id: int):
    cohort = _cohort(cohort_id)
    form = ConfirmRosterForm()
    stored = fetch_upload(UPLOAD_KIND, form.token.data or "") if form.validate_on_submit() else None
    if stored is None or stored[1].get("cohort") != cohort.id:
        flash(_("The checked file has expired. Upload it again."), "error")
        return redirect(url_for("cohorts.roster", cohort_id=cohort_id))
    data, meta = stored
    report = services.enrol_roster(cohort, meta["filename"], data, actor=current_user)
    if not report.saved:
        discard_changes()
        return render_template(
            "cohorts/roster_preview.html", cohort=cohort, report=report, confirm=None
        )
    discard_upload(UPLOAD_KIND, form.token.data)
    flash(
        _(
            "%(n)d workers enrolled (%(new)d new accounts). Print their login slips now.",
            n=report.enrolled,
            new=report.new_accounts,
        ),
        "success",
    )
    return redirect(url_for("cohorts.detail", cohort_id=cohort_id))


@bp.get("/<int:cohort_id>/slips.pdf")
@role_required(*MANAGERS)
def slips(cohort_id: int):
    cohort = _cohort(cohort_id)
    login_url = current_app.config["BASE_URL"] + url_for("accounts.login")
    data = services.cohort_slips(cohort, login_url, request.args.get("user", type=int))
    if not data:
        flash(_("The class has nobody enrolled yet."), "error")
        return redirect(url_for("cohorts.detail", cohort_id=cohort_id))
    pdf = render_login_slips(data, title=cohort.name)
    return send_private(pdf, f"login-slips-{cohort.id}.pdf", "application/pdf", inline=True)


@bp.get("/<int:cohort_id>/dashboard")
@role_required(*MANAGERS)
def dashboard(cohort_id: int):
    cohort = _cohort(cohort_id)
    return render_template("cohorts/dashboard.html", cohort=cohort, board=build_dashboard(cohort))


@bp.get("/<int:cohort_id>/dashboard.xlsx")
@role_required(*MANAGERS)
def dashboard_export(cohort_id: int):
    cohort = _cohort(cohort_id)
    data = dashboard_xlsx(cohort, build_dashboard(cohort))
    return send_private(data, f"class-{cohort.id}-progress.xlsx", XLSX)


@bp.route("/<int:cohort_id>/materials", methods=["GET", "POST"])
@role_required(*MANAGERS)
def materials(cohort_id: int):
    cohort = _cohort(cohort_id)
    form = MaterialForm()
    form.area.choices = area_choices(cohort.trade, blank=_("Whole trade"))
    if form.validate_on_submit():
        area = db.session.get(KnowledgeArea, int(form.area.data)) if form.area.data else None
        target = None if form.whole_trade.data and current_user.role is Role.ADMIN else cohort
        upload = form.file.data
        try:
            if upload and upload.filename:
                training.add_material_file(
                    cohort.trade,
                    form.title.data,
                    upload.filename,
                    upload.read(),
                    cohort=target,
                    area=area,
                    actor=current_user,
                )
            else:
                training.add_material_link(
                    cohort.trade,
                    form.title.data,
                    form.url.data or "",
                    cohort=target,
                    area=area,
                    actor=current_user,
                )
        except ValidationFailed as exc:
            show_problems(form, exc)
        else:
            flash(_("The material is added."), "success")
            return redirect(url_for("cohorts.materials", cohort_id=cohort_id))
    items = db.session.scalars(
        sa.select(Material)
        .where(Material.trade_id == cohort.trade_id)
        .where(sa.or_(Material.cohort_id.is_(None), Material.cohort_id == cohort.id))
        .order_by(Material.created_at.desc())
    ).all()
    return render_template(
        "cohorts/materials.html", cohort=cohort, form=form, items=items, action_form=ConfirmForm()
    )


@bp.post("/<int:cohort_id>/materials/<int:material_id>/delete")
@role_required(*MANAGERS)
def delete_material(cohort_id: int, material_id: int):
    cohort = _cohort(cohort_id)
    material = db.session.get(Material, material_id)
    if material is None or material.trade_id != cohort.trade_id:
        abort(404)
    if material.cohort_id is None and current_user.role is not Role.ADMIN:
        abort(403)  # trade-wide materials belong to the office
    training.delete_material(material, actor=current_user)
    flash(_("The material is deleted."), "success")
    return redirect(url_for("cohorts.materials", cohort_id=cohort_id))


@bp.route("/rules", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def rules():
    form = RuleForm()
    form.track.choices = track_choices(list_trades())
    if accept_form(
        form,
        lambda: services.set_eligibility_rule(
            *parse_track(form.track.data),
            form.min_years.data,
            form.note.data or "",
            actor=current_user,
        ),
    ):
        flash(_("The rule is saved. New roster imports are checked against it."), "success")
        return redirect(url_for("cohorts.rules"))
    existing = db.session.scalars(
        sa.select(EligibilityRule).order_by(EligibilityRule.trade_id)
    ).all()
    return render_template("cohorts/rules.html", form=form, rules=existing)
