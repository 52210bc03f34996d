from __future__ import annotations

import contextlib

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from certify.banks.blueprints import get_blueprint
from certify.catalog.models import KnowledgeArea, Trade
from certify.catalog.services import get_trade
from certify.core import clock
from certify.core.auth import role_required
from certify.core.downloads import send_private
from certify.core.errors import DomainError, ValidationFailed
from certify.core.forms import ConfirmForm, flash_outcome, safe_next
from certify.core.transactions import discard_changes
from certify.exams.services import exam_locks
from certify.extensions import db
from certify.training import services
from certify.training.models import Material, MaterialKind, MockAttempt
from certify.training.review import end_of_today

bp = Blueprint("training", __name__, url_prefix="/learn")
MODES = ("order", "random", "wrong", "due")


def _requested_trade_id() -> int | None:
    """The trade a /learn/ address is about, from its code, mock attempt or material."""
    args = request.view_args or {}
    if "code" in args:
        trade = db.session.scalar(sa.select(Trade).where(Trade.code == args["code"]))
        return trade.id if trade else None
    if request.endpoint in ("training.mock", "training.mock_result"):
        mock = db.session.get(MockAttempt, args.get("attempt_id"))
        return mock.blueprint.trade_id if mock else None
    if request.endpoint == "training.material":
        material = db.session.get(Material, args.get("material_id"))
        return material.trade_id if material else None
    return None


@bp.before_request
def close_during_an_exam():
    """Nothing that shows answers is open to a worker whose exam of the trade is open and
    not handed in: the practice page would otherwise answer the exam's questions."""
    if not current_user.is_authenticated or request.endpoint == "training.index":
        return None
    locks = exam_locks(current_user)
    if not locks:
        return None
    trade_id = _requested_trade_id()
    lock = locks.get(trade_id) if trade_id is not None else next(iter(locks.values()))
    if lock is None:
        return None
    return render_template("training/closed_during_exam.html", lock=lock), 423


def _trade(code: str):
    trade = get_trade(code)
    services.check_learner(current_user, trade)
    return trade


@bp.get("/")
@role_required()
def index():
    trades = services.learner_trades(current_user)
    locks = exam_locks(current_user)
    cards = [
        {
            "trade": t,
            "progress": services.progress(current_user, t),
            "wrong": len(services.wrong_question_ids(current_user, t)),
            "due": len(services.due_question_ids(current_user, t)),
            "mocks": services.mock_history(current_user, t)[:3],
            "lock": locks.get(t.id),
        }
        for t in trades
    ]
    return render_template("training/index.html", cards=cards)


def _area_arg(trade):
    area_id = request.args.get("area", type=int)
    area = db.session.get(KnowledgeArea, area_id) if area_id else None
    return area if area is not None and area.trade_id == trade.id else None


def _ids(trade, mode: str, area):
    if mode == "wrong":
        return services.wrong_question_ids(current_user, trade)
    if mode == "due":
        return services.due_question_ids(current_user, trade)
    ids = services.practice_question_ids(trade, area)
    if mode == "random":
        ids = services.shuffled(ids, current_user, request.args.get("round", "1"))
    return ids


@bp.get("/<code>/practice")
@role_required()
def practice(code: str):
    trade = _trade(code)
    mode = request.args.get("mode", "order")
    mode = mode if mode in MODES else "order"
    area = _area_arg(trade)
    ids = _ids(trade, mode, area)
    index = max(0, request.args.get("i", 0, type=int))
    if not ids:
        return render_template("training/practice_empty.html", trade=trade, mode=mode, area=area)
    if index >= len(ids):
        return render_template(
            "training/practice_done.html", trade=trade, mode=mode, area=area, count=len(ids)
        )
    question = services.get_practice_question(trade, ids[index])
    return _practice_page(trade, mode, area, index, len(ids), question)


def _practice_page(trade, mode, area, index, total, question, feedback=None):
    """One question of a practice run, before the answer or with its feedback."""
    return render_template(
        "training/practice.html",
        trade=trade,
        mode=mode,
        area=area,
        index=index,
        total=total,
        question=question,
        version=question.current,
        feedback=feedback,
    )


@bp.post("/<code>/practice/<int:question_id>")
@role_required()
def practice_answer(code: str, question_id: int):
    trade = _trade(code)
    question = services.get_practice_question(trade, question_id)
    mode = request.form.get("mode", "order")
    area_id = request.form.get("area", type=int)
    area = db.session.get(KnowledgeArea, area_id) if area_id else None
    index = request.form.get("i", 0, type=int)
    try:
        feedback = services.answer_practice(current_user, question, request.form.getlist("answer"))
    except ValidationFailed as exc:
        discard_changes()
        flash(exc.problems[0].message, "error")
        return redirect(url_for("training.practice", code=code, mode=mode, area=area_id, i=index))
    return _practice_page(
        trade, mode, area, index, len(_ids(trade, mode, area)), question, feedback
    )


@bp.get("/<code>/wrong-book")
@role_required()
def wrong_book(code: str):
    trade = _trade(code)
    show_all = request.args.get("all") == "1"
    entries = services.wrong_book(current_user, trade, include_mastered=show_all)
    return render_template(
        "training/wrong_book.html",
        trade=trade,
        entries=entries,
        show_all=show_all,
        due=len(services.due_question_ids(current_user, trade)),
        today_ends=end_of_today(),
        action_form=ConfirmForm(),
    )


@bp.post("/<code>/wrong-book/<int:question_id>/mastered")
@role_required()
def mastered(code: str, question_id: int):
    _trade(code)
    flash_outcome(
        lambda: services.mark_mastered(current_user, question_id),
        lambda _done: _("Marked as mastered. It leaves your wrong-answer book."),
    )
    return redirect(safe_next(request.form.get("next"), url_for("training.wrong_book", code=code)))


@bp.get("/<code>/materials")
@role_required()
def materials(code: str):
    trade = _trade(code)
    return render_template(
        "training/materials.html", trade=trade, items=services.materials_for(current_user, trade)
    )


@bp.get("/materials/<int:material_id>")
@role_required()
def material(material_id: int):
    item = db.session.get(Material, material_id)
    if item is None or not services.can_read_material(current_user, item):
        abort(404)
    if item.kind is MaterialKind.LINK:
        return redirect(item.url)
    return send_private(services.material_path(item), item.filename, item.mime, inline=True)


@bp.get("/<code>/mock")
@role_required()
def mock_list(code: str):
    trade = _trade(code)
    return render_template(
        "training/mock_list.html",
        trade=trade,
        blueprints=services.mock_blueprints(current_user, trade),
        history=services.mock_history(current_user, trade),
        action_form=ConfirmForm(),
    )


@bp.post("/<code>/mock/<int:blueprint_id>/start")
@role_required()
def mock_start(code: str, blueprint_id: int):
    trade = _trade(code)
    blueprint = get_blueprint(blueprint_id)
    if blueprint.trade_id != trade.id:
        abort(404)
    try:
        attempt = services.start_mock(current_user, blueprint)
    except DomainError as exc:
        discard_changes()
        flash(
            exc.message
            if exc.code != "bank_too_small"
            else _("The question bank is too small for this mock exam yet. Tell your trainer."),
            "error",
        )
        return redirect(url_for("training.mock_list", code=code))
    return redirect(url_for("training.mock", attempt_id=attempt.id))


def _answers_from_form() -> dict[int, list[str]]:
    answers: dict[int, list[str]] = {}
    for key in request.form:
        if key.startswith("q") and key[1:].isdigit():
            answers[int(key[1:])] = request.form.getlist(key)
    return answers


@bp.route("/mock/<int:attempt_id>", methods=["GET", "POST"])
@role_required()
def mock(attempt_id: int):
    attempt = services.get_mock(current_user, attempt_id)
    if attempt.finished or services.mock_overdue(attempt):
        if request.method == "POST":
            services.expire_mock_if_due(attempt)
        return redirect(url_for("training.mock_result", attempt_id=attempt.id))
    if request.method == "POST":
        return _post_mock(attempt)
    remaining = max(0, int((attempt.deadline - clock.now()).total_seconds()))
    return render_template(
        "training/mock.html",
        attempt=attempt,
        paper=services.paper_view(attempt),
        remaining=remaining,
    )


def _post_mock(attempt: MockAttempt):
    """Save and go on later; or hand in — asking first, on a page of its own, when questions
    are left unanswered (the worker then goes back, or hands in what was saved)."""
    answers = _answers_from_form()
    if request.form.get("saved") == "1":
        answers = {int(k): v for k, v in (attempt.answers or {}).items()}
    if request.form.get("action") == "save":
        with contextlib.suppress(DomainError):  # past its time: the next page grades it
            services.save_mock_answers(attempt, answers)
        flash(_("Your answers are saved. You can go on later."), "success")
        return redirect(url_for("training.mock", attempt_id=attempt.id))
    missing = services.unanswered_positions(attempt, answers)
    if missing and request.form.get("confirmed") != "1":
        services.save_mock_answers(attempt, answers)
        return render_template(
            "training/mock_confirm.html",
            attempt=attempt,
            missing=missing,
            total=len(attempt.items),
            action_form=ConfirmForm(),
        )
    services.submit_mock(attempt, answers)
    return redirect(url_for("training.mock_result", attempt_id=attempt.id))


@bp.get("/mock/<int:attempt_id>/result")
@role_required()
def mock_result(attempt_id: int):
    attempt = services.get_mock(current_user, attempt_id)
    outcome = services.mock_outcome(attempt)
    if outcome is None:
        return redirect(url_for("training.mock", attempt_id=attempt.id))
    return render_template(
        "training/mock_result.html",
        attempt=attempt,
        outcome=outcome,
        paper=services.paper_view(attempt),
    )
