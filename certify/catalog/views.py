from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from certify.accounts.models import Role
from certify.catalog import services
from certify.catalog.forms import AreasForm, RenameAreaForm, TradeForm
from certify.catalog.models import CertificateType, KnowledgeArea
from certify.core.auth import role_required
from certify.core.errors import DomainError, NotFound, ValidationFailed
from certify.core.forms import (
    ConfirmForm,
    accept_form,
    flash_outcome,
    flash_posted_form,
    flash_refusal,
    show_problems,
)
from certify.extensions import db

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

STAFF = (Role.ADMIN, Role.TRAINER, Role.EXAMINER, Role.HR)


def _trade_data(form: TradeForm) -> services.TradeData:
    return services.TradeData(
        code=form.code.data or "",
        name=form.name.data or "",
        national_code=form.national_code.data or None,
        certificate_type=CertificateType(form.certificate_type.data),
        levels=[int(level) for level in form.levels.data or []],
        assesses_theory=form.assesses_theory.data,
        assesses_practical=form.assesses_practical.data,
        theory_pass_mark=form.theory_pass_mark.data,
        practical_pass_mark=form.practical_pass_mark.data,
        theory_duration_minutes=form.theory_duration_minutes.data,
        description=form.description.data or "",
        multiple_scoring=form.multiple_scoring.data or "exact",
        certificate_number_format=(form.certificate_number_format.data or "").strip() or None,
    )


def _area_paths(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@bp.get("/trades")
@role_required(*STAFF)
def trade_list():
    return render_template("catalog/trade_list.html", trades=services.list_trades())


@bp.get("/trades/<code>")
@role_required(*STAFF)
def trade_detail(code: str):
    trade = services.get_trade(code)
    return render_template(
        "catalog/trade_detail.html",
        trade=trade,
        areas_form=AreasForm(),
        rename_form=RenameAreaForm(),
        action_form=ConfirmForm(),
        usage=services.describe_usage(services.trade_usage(trade)),
    )


@bp.route("/trades/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def trade_create():
    form = TradeForm()
    if form.validate_on_submit():
        try:
            trade = services.create_trade(_trade_data(form))
            for path in _area_paths(form.areas.data):
                services.ensure_area_path(trade, path)
        except ValidationFailed as exc:
            show_problems(form, exc)
        else:
            flash(_("The trade %(name)s is saved.", name=trade.name), "success")
            return redirect(url_for("catalog.trade_detail", code=trade.code))
    elif not form.is_submitted():
        form.certificate_type.data = CertificateType.LEVEL.value
    return render_template("catalog/trade_form.html", form=form, trade=None)


@bp.route("/trades/<code>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def trade_edit(code: str):
    trade = services.get_trade(code)
    form = TradeForm(obj=trade)
    del form.areas
    if not form.is_submitted():
        form.certificate_type.data = trade.certificate_type.value
        form.levels.data = [str(level) for level in trade.levels]
    if accept_form(form, lambda: services.update_trade(trade, _trade_data(form))):
        flash(_("The trade %(name)s is saved.", name=trade.name), "success")
        return redirect(url_for("catalog.trade_detail", code=trade.code))
    return render_template("catalog/trade_form.html", form=form, trade=trade)


@bp.post("/trades/<code>/delete")
@role_required(Role.ADMIN)
def trade_delete(code: str):
    trade = services.get_trade(code)
    ConfirmForm().validate_on_submit()
    try:
        services.delete_trade(trade)
    except DomainError as exc:
        flash_refusal(exc)
        return redirect(url_for("catalog.trade_detail", code=code))
    flash(_("The trade is deleted."), "success")
    return redirect(url_for("catalog.trade_list"))


@bp.post("/trades/<code>/areas")
@role_required(Role.ADMIN)
def area_add(code: str):
    trade = services.get_trade(code)
    form = AreasForm()

    def save() -> None:
        for path in _area_paths(form.paths.data):
            services.ensure_area_path(trade, path)

    flash_posted_form(form, save, _("The knowledge areas are saved."))
    return redirect(url_for("catalog.trade_detail", code=code))


def _area(area_id: int) -> KnowledgeArea:
    area = db.session.get(KnowledgeArea, area_id)
    if area is None:
        raise NotFound(_("No such knowledge area."), code="area_not_found")
    return area


@bp.post("/areas/<int:area_id>/rename")
@role_required(Role.ADMIN)
def area_rename(area_id: int):
    area = _area(area_id)
    form = RenameAreaForm()
    flash_posted_form(
        form, lambda: services.rename_knowledge_area(area, form.name.data), _("Renamed.")
    )
    return redirect(url_for("catalog.trade_detail", code=area.trade.code))


@bp.post("/areas/<int:area_id>/delete")
@role_required(Role.ADMIN)
def area_delete(area_id: int):
    area = _area(area_id)
    code = area.trade.code
    ConfirmForm().validate_on_submit()
    flash_outcome(
        lambda: services.delete_knowledge_area(area),
        lambda _done: _("The knowledge area is deleted."),
    )
    return redirect(url_for("catalog.trade_detail", code=code))
