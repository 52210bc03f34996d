from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from certify.accounts.models import Role
from certify.banks import blueprints as bp_services
from certify.banks import services
from certify.banks.export import EXPORT_FORMATS, export_bank, template_xlsx
from certify.banks.forms import (
    ConfirmImportForm,
    ImportForm,
    QuestionForm,
    area_choices,
    blueprint_form_class,
)
from certify.banks.importer import FORMAT_LABELS, ImportOptions, check_import, import_bank
from certify.banks.lint import lint_bank
from certify.banks.models import BankImport, QuestionStatus
from certify.banks.types import OPTION_KEYS, QuestionType
from certify.catalog.models import KnowledgeArea, Trade
from certify.catalog.services import get_trade, list_trades
from certify.core.auth import role_required
from certify.core.downloads import send_private
from certify.core.errors import DomainError, Problem, ValidationFailed
from certify.core.forms import (
    ConfirmForm,
    accept_form,
    flash_refusal,
    page_number,
    safe_next,
    show_problems,
)
from certify.core.storage import discard_upload, fetch_upload, keep_upload
from certify.core.tables import UnusableFile
from certify.core.transactions import discard_changes
from certify.extensions import db

bp = Blueprint("banks", __name__, url_prefix="/banks")
EDITORS = (Role.ADMIN, Role.TRAINER)
UPLOAD_KIND = "bank-imports"
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "gift": "text/plain; charset=utf-8",
}


def _trade(code: str) -> Trade:
    """Trainers work only on the banks of trades they are accredited for."""
    trade = get_trade(code)
    if current_user.role is Role.TRAINER and trade not in current_user.trades:
        abort(403)
    return trade


def _visible_trades() -> list[Trade]:
    trades = list_trades()
    if current_user.role is Role.TRAINER:
        trades = [t for t in trades if t in current_user.trades]
    return trades


@bp.get("/")
@role_required(*EDITORS)
def index():
    rows = [(t, services.bank_totals(t)) for t in _visible_trades()]
    return render_template("banks/index.html", rows=rows)


@bp.get("/<code>/")
@role_required(*EDITORS)
def bank(code: str):
    trade = _trade(code)
    args = request.args
    status = args.get("status", "active")
    flt = services.QuestionFilter(
        area_id=args.get("area", type=int),
        type=QuestionType(args["type"]) if args.get("type") in set(QuestionType) else None,
        difficulty=args.get("difficulty", type=int),
        status=QuestionStatus(status) if status in set(QuestionStatus) else None,
        search=args.get("q", ""),
        page=page_number(args),
    )
    page = services.search_questions(trade, flt)
    blueprints = bp_services.list_blueprints(trade)
    checks = {b.id: bp_services.check_blueprint(b) for b in blueprints}
    needs: dict[int, int] = {}  # per area: the most any one blueprint draws from it
    for blueprint in blueprints:
        per_area: dict[int, int] = {}
        for (_type, area_id), n in bp_services.needed_counts(blueprint).items():
            if area_id is not None:
                per_area[area_id] = per_area.get(area_id, 0) + n
        for area_id, n in per_area.items():
            needs[area_id] = max(needs.get(area_id, 0), n)
    imports = db.session.scalars(
        db.select(BankImport)
        .where(BankImport.trade_id == trade.id)
        .order_by(BankImport.created_at.desc())
        .limit(10)
    ).all()

    return render_template(
        "banks/bank.html",
        trade=trade,
        page=page,
        flt=flt,
        status=status,
        counts=services.active_counts(trade),
        totals=services.bank_totals(trade),
        blueprints=blueprints,
        checks=checks,
        needs=needs,
        imports=imports,
        area_options=area_choices(trade, blank=_("All knowledge areas")),
        question_types=list(QuestionType),
        export_formats=EXPORT_FORMATS,
        action_form=ConfirmForm(),
    )


@bp.get("/<code>/lint")
@role_required(*EDITORS)
def lint(code: str):
    """题库体检: the bank as the bureau's reviewer reads it, finding by finding."""
    trade = _trade(code)
    report = lint_bank(trade)
    return render_template("banks/lint.html", trade=trade, report=report)


@bp.get("/template.xlsx")
@role_required(*EDITORS)
def template():
    return send_private(template_xlsx(), "题库导入模板.xlsx", MIME["xlsx"])


@bp.get("/<code>/export.<fmt>")
@role_required(*EDITORS)
def export(code: str, fmt: str):
    if fmt not in EXPORT_FORMATS:
        abort(404)
    trade = _trade(code)
    data = export_bank(services.active_versions(trade), fmt)
    return send_private(data, f"{trade.code}.{fmt}", MIME[fmt])


def _options_from(form) -> ImportOptions:
    area_id = form.default_area.data
    area = db.session.get(KnowledgeArea, int(area_id)) if area_id and area_id.isdigit() else None
    return ImportOptions(
        valid_only=form.valid_only.data in (True, "y", "1", "True"),
        create_areas=form.create_areas.data in (True, "y", "1", "True"),
        default_area=area.path if area else None,
    )


@bp.route("/<code>/import", methods=["GET", "POST"])
@role_required(*EDITORS)
def import_start(code: str):
    trade = _trade(code)
    form = ImportForm()
    form.default_area.choices = area_choices(trade, blank=_("— none: the file must say —"))
    if form.validate_on_submit():
        upload = form.file.data
        filename = upload.filename or "upload"
        data = upload.read()
        options = _options_from(form)
        try:
            report = check_import(trade, filename, data, options)
        except UnusableFile as exc:
            form.file.errors = [f"{exc.filename}: {exc.message}"]
            return render_template("banks/import.html", trade=trade, form=form), 422
        token = keep_upload(UPLOAD_KIND, data, {"filename": filename, "trade": trade.code})
        confirm, valid_only_confirm = (
            ConfirmImportForm(
                token=token,
                default_area=form.default_area.data or "",
                create_areas="y" if options.create_areas else "",
                valid_only="y" if valid_only else "",
            )
            for valid_only in (options.valid_only, True)
        )
        return render_template(
            "banks/preview.html",
            trade=trade,
            report=report,
            confirm=confirm,
            valid_only_confirm=valid_only_confirm,
            options=options,
            format_label=FORMAT_LABELS[report.format],
        )
    return render_template("banks/import.html", trade=trade, form=form)


@bp.post("/<code>/import/confirm")
@role_required(*EDITORS)
def import_confirm(code: str):
    trade = _trade(code)
    form = ConfirmImportForm()
    stored = fetch_upload(UPLOAD_KIND, form.token.data or "") if form.validate_on_submit() else None
    if stored is None or stored[1].get("trade") != trade.code:
        flash(_("The checked file has expired. Upload it again."), "error")
        return redirect(url_for("banks.import_start", code=code))
    data, meta = stored
    options = _options_from(form)
    try:
        report = import_bank(trade, meta["filename"], data, options, actor=current_user)
    except UnusableFile as exc:
        discard_changes()
        flash(f"{exc.filename}: {exc.message}", "error")
        return redirect(url_for("banks.import_start", code=code))
    if not report.saved:
        discard_changes()
        flash(
            _("Nothing was imported: the file has problems. Correct them and upload it again."),
            "error",
        )
        return render_template(
            "banks/preview.html",
            trade=trade,
            report=report,
            confirm=None,
            options=options,
            format_label=FORMAT_LABELS[report.format],
        )
    discard_upload(UPLOAD_KIND, form.token.data)
    flash(
        _(
            "%(n)d questions imported; %(d)d duplicates and %(s)d skipped were left out.",
            n=report.imported,
            d=len(report.duplicates),
            s=len(report.skipped),
        ),
        "success",
    )
    return redirect(url_for("banks.bank", code=code))


@bp.route("/<code>/questions/<int:question_id>", methods=["GET", "POST"])
@role_required(*EDITORS)
def question_edit(code: str, question_id: int):
    trade = _trade(code)
    question = services.get_question(trade, question_id)
    form = QuestionForm()
    form.area.choices = area_choices(trade)
    form.fill_from(question.current)
    if accept_form(
        form,
        lambda: services.edit_question(question, form.to_edit(), actor=current_user),
        fields=QuestionForm.FIELD_OF_COLUMN,
    ):
        flash(_("Question %(id)d is saved.", id=question.id), "success")
        return redirect(url_for("banks.bank", code=code))
    return render_template(
        "banks/question_form.html",
        trade=trade,
        question=question,
        form=form,
        option_keys=OPTION_KEYS,
        action_form=ConfirmForm(),
    )


@bp.post(
    "/<code>/questions/<int:question_id>/<any(retire, reactivate, exam_only, practice):action>"
)
@role_required(*EDITORS)
def question_status(code: str, question_id: int, action: str):
    trade = _trade(code)
    question = services.get_question(trade, question_id)
    try:
        if action in ("exam_only", "practice"):
            services.mark_exam_only(question, action == "exam_only", actor=current_user)
            message = (
                _("Question %(id)d is kept for exams only.", id=question.id)
                if action == "exam_only"
                else _("Question %(id)d is open to practice and mock exams.", id=question.id)
            )
        elif action == "retire":
            services.retire_question(question, actor=current_user)
            message = _(
                "Question %(id)d is retired; it will not be drawn any more.", id=question.id
            )
        else:
            services.reactivate_question(question, actor=current_user)
            message = _("Question %(id)d is active again.", id=question.id)
    except DomainError as exc:
        flash_refusal(exc)
    else:
        flash(message, "success")
    return redirect(safe_next(request.form.get("next"), url_for("banks.bank", code=code)))


# --- blueprints -------------------------------------------------------------------


def _blueprint_data(form, trade: Trade) -> bp_services.BlueprintData:
    problems: list[Problem] = []
    sections = []
    for q_type in QuestionType:
        count = getattr(form, f"{q_type.value}_count").data
        points_text = (getattr(form, f"{q_type.value}_points").data or "").strip()
        if not count:
            continue
        try:
            points = Decimal(points_text or "1")
        except InvalidOperation:
            problems.append(
                Problem(f"{q_type.value}_points", _("Write a number such as 1 or 0.5."))
            )
            continue
        sections.append(bp_services.SectionData(q_type, count, points))
    if problems:
        raise ValidationFailed(problems)
    quotas = {
        area.path: getattr(form, f"quota_{area.id}").data
        for area in trade.root_areas
        if getattr(form, f"quota_{area.id}").data
    }
    mix = {
        level: getattr(form, f"mix_{level}").data
        for level in range(1, 6)
        if getattr(form, f"mix_{level}").data
    }
    return bp_services.BlueprintData(
        name=form.name.data,
        level=int(form.level.data) if form.level.data else None,
        duration_minutes=form.duration_minutes.data,
        pass_mark=form.pass_mark.data,
        sections=sections,
        quotas=quotas,
        difficulty_mix=mix,
    )


def _fill_blueprint_form(form, blueprint) -> None:
    form.name.data = blueprint.name
    form.level.data = str(blueprint.level or "")
    form.duration_minutes.data = blueprint.duration_minutes
    form.pass_mark.data = blueprint.pass_mark
    for section in blueprint.sections:
        getattr(form, f"{section.question_type.value}_count").data = section.count
        getattr(
            form, f"{section.question_type.value}_points"
        ).data = f"{section.points.normalize():f}"
    for quota in blueprint.quotas:
        field = getattr(form, f"quota_{quota.area_id}", None)
        if field is not None:
            field.data = quota.weight
    for level, pct in (blueprint.difficulty_mix or {}).items():
        getattr(form, f"mix_{level}").data = pct


def _blueprint_of(trade: Trade, blueprint_id: int):
    blueprint = bp_services.get_blueprint(blueprint_id)
    if blueprint.trade_id != trade.id:
        abort(404)
    return blueprint


@bp.route("/<code>/blueprints/new", methods=["GET", "POST"])
@bp.route("/<code>/blueprints/<int:blueprint_id>/edit", methods=["GET", "POST"])
@role_required(*EDITORS)
def blueprint_form(code: str, blueprint_id: int | None = None):
    trade = _trade(code)
    blueprint = _blueprint_of(trade, blueprint_id) if blueprint_id else None
    form = blueprint_form_class(trade)()
    if blueprint is not None and not form.is_submitted():
        _fill_blueprint_form(form, blueprint)
    if form.validate_on_submit():
        try:
            saved = bp_services.save_blueprint(
                trade, _blueprint_data(form, trade), blueprint, actor=current_user
            )
        except ValidationFailed as exc:
            discard_changes()
            for problem in exc.problems:
                if hasattr(form, problem.field):
                    show_problems(form, ValidationFailed([problem]))
                else:
                    flash(problem.message, "error")
        else:
            flash(_("The blueprint is saved."), "success")
            return redirect(url_for("banks.blueprint_check", code=code, blueprint_id=saved.id))
    return render_template(
        "banks/blueprint_form.html",
        trade=trade,
        blueprint=blueprint,
        form=form,
        question_types=list(QuestionType),
    )


@bp.get("/<code>/blueprints/<int:blueprint_id>")
@role_required(*EDITORS)
def blueprint_check(code: str, blueprint_id: int):
    trade = _trade(code)
    blueprint = _blueprint_of(trade, blueprint_id)
    return render_template(
        "banks/blueprint_check.html",
        trade=trade,
        blueprint=blueprint,
        check=bp_services.check_blueprint(blueprint),
        action_form=ConfirmForm(),
    )


@bp.get("/<code>/blueprints/<int:blueprint_id>.json")
@role_required(*EDITORS)
def blueprint_export(code: str, blueprint_id: int):
    trade = _trade(code)
    blueprint = _blueprint_of(trade, blueprint_id)
    body = json.dumps(bp_services.export_blueprint(blueprint), ensure_ascii=False, indent=2)
    return send_private(
        body.encode(), f"{trade.code}-{blueprint.id}.blueprint.json", "application/json"
    )


@bp.post("/<code>/blueprints/<int:blueprint_id>/delete")
@role_required(*EDITORS)
def blueprint_delete(code: str, blueprint_id: int):
    trade = _trade(code)
    blueprint = _blueprint_of(trade, blueprint_id)
    try:
        bp_services.delete_blueprint(blueprint, actor=current_user)
    except DomainError as exc:
        flash_refusal(exc)
        return redirect(url_for("banks.blueprint_check", code=code, blueprint_id=blueprint.id))
    flash(_("The blueprint is deleted."), "success")
    return redirect(url_for("banks.bank", code=code))
