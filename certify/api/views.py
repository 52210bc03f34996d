from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError

from certify.accounts import sessions, throttle
from certify.accounts.limits import throttle_logins
from certify.accounts.models import Role
from certify.accounts.services import LoginFailed, authenticate
from certify.api.openapi import OPENAPI
from certify.cohorts.services import can_manage
from certify.core import clock
from certify.core.errors import DomainError
from certify.exams import services
from certify.exams.autosave import save_answer_quickly
from certify.exams.models import Attempt, AttemptStatus, Result, ResultStatus
from certify.extensions import csrf, db, limiter
from certify.verification.limits import has_valid_signature, lookup_limit, request_verification

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
TYPE_NAMES = {"single": "single", "multiple": "multiple", "true_false": "true_false"}
RETRIES = 3  # SQLite answers "database is locked" when two writers meet; try again


def json_object() -> dict:
    """The request's JSON body when it is an object; anything else reads as empty."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def error(status: int, code: str, message: str):
    return jsonify(error={"code": code, "message": message}), status


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    db.session.rollback()
    return error(exc.status, exc.code, exc.message)


def token_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        try:
            user = _token_user(header)
        except OperationalError:  # the database is restarting: say so, the client retries
            db.session.rollback()
            return error(503, "busy", _("The server is busy. Try again in a moment."))
        if user is None:
            return error(401, "unauthorized", _("Log in again: the token is missing or expired."))
        g.api_user = user
        return view(*args, **kwargs)

    return wrapped


def _token_user(header: str):
    if not header.startswith("Bearer "):
        return None
    for _try in range(RETRIES - 1):
        try:
            return sessions.user_for_token(header[7:].strip())
        except OperationalError:
            db.session.rollback()  # a connection lost with a restart: the pool pings anew
    return sessions.user_for_token(header[7:].strip())


def retrying(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        for _try in range(RETRIES):
            try:
                return view(*args, **kwargs)
            except OperationalError:
                db.session.rollback()  # SQLite's "database is locked": try again
        return error(503, "busy", _("The server is busy. Try again in a moment."))

    return wrapped


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


@bp.post("/auth/token")
@throttle_logins()
def token():
    body = json_object()
    try:
        user = authenticate(
            str(body.get("username", "")),
            str(body.get("password", "")),
            throttle.client_address(),
        )
    except LoginFailed as exc:
        db.session.commit()  # keep the failed-login count
        return error(exc.status, exc.code, exc.message)
    if user.must_change_password:
        # The printed first password opens only the page that replaces it, not the API.
        db.session.commit()
        return error(
            403,
            "password_change_required",
            _("Choose your own password first: log in on the website and change it."),
        )
    value, expires = sessions.issue_token(user)
    db.session.commit()
    return jsonify(token=value, expires_at=expires.isoformat())


@bp.delete("/auth/token")
@token_required
def revoke_token():
    """Log out of the API: the presented token stops working at once."""
    sessions.revoke_token(request.headers["Authorization"][7:].strip())
    db.session.commit()
    return "", 204


def _session_json(session, attempt):
    opens, closes, extra = session.window_for(g.api_user.id)
    return {
        "id": session.id,
        "name": session.name,
        "opens_at": opens.isoformat(),
        "closes_at": closes.isoformat(),
        "duration_minutes": session.duration_minutes + extra,
        "needs_access_code": bool(session.access_code),
        "attempt_id": attempt.id if attempt else None,
        "attempt_status": str(attempt.status) if attempt else None,
    }


@bp.get("/exams")
@token_required
def exams():
    rows = services.sessions_for(g.api_user)
    db.session.commit()
    return jsonify([_session_json(s, a) for s, a in rows])


def paper_json(attempt, trade_id: int) -> dict:
    """The paper without any answer key: safe to send while the exam is open."""
    answers = services.answers_by_position(attempt)
    items = services.paper_entries(attempt)
    shown = services.shown_questions([item.version_id for item in items], trade_id)
    questions = []
    for item in items:
        question = shown[item.version_id]
        by_key = {o["key"]: o for o in question.display_options}
        order = item.option_order or list(by_key)
        questions.append(
            {
                # The question's number on this paper: a bank id would be usable elsewhere.
                "id": item.position,
                "position": item.position,
                "type": TYPE_NAMES[str(question.type)],
                "stem": question.stem,
                "options": [{"id": k, "text": by_key[k]["text"]} for k in order if k in by_key],
            }
        )
    return {
        "attempt_id": attempt.id,
        "status": str(attempt.status),
        "deadline": attempt.deadline.isoformat(),
        "questions": questions,
        "answers": {str(k): v for k, v in answers.items()},
    }


@bp.post("/exams/<int:session_id>/attempts")
@token_required
@retrying
def start(session_id: int):
    session = services.get_session(session_id)
    body = json_object()
    try:
        attempt = services.start_attempt(session, g.api_user, body.get("access_code"))
    except (services.WrongAccessCode, services.AccessCodeLocked):
        db.session.commit()  # keep the count of wrong codes
        raise
    trade_id = session.blueprint.trade_id
    # Commit first: a new attempt's audit entry holds the trail's lock until the commit, and
    # every other start waits for it. The paper is read back in a few plain queries.
    db.session.commit()
    return jsonify(paper_json(attempt, trade_id))


def _sent_answer() -> list[str] | None:
    body = request.get_json(silent=True)
    answer = body.get("answer") if isinstance(body, dict) else None
    if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer):
        return None
    return answer


@bp.put("/attempts/<int:attempt_id>/answers/<int:item_id>")
@limiter.exempt  # every click of every worker; a token and one's own attempt are needed anyway
def save(attempt_id: int, item_id: int):
    """`item_id` is the question's `id` in the paper: its number on this paper."""
    header = request.headers.get("Authorization", "")
    answer = _sent_answer()
    if answer is not None and header.startswith("Bearer "):
        saved_at = save_answer_quickly(header[7:].strip(), attempt_id, item_id, answer)
        if saved_at is not None:
            return jsonify(saved_at=saved_at.isoformat())
    return save_checked(attempt_id, item_id)


@token_required
@retrying
def save_checked(attempt_id: int, item_id: int):
    """Every case the fast path leaves: errors, lapsed attempts, SQLite's busy moments."""
    attempt = services.attempt_for(g.api_user, attempt_id)
    answer = _sent_answer()
    if answer is None:
        return error(422, "invalid_answer", _('Send {"answer": [option ids]}.'))
    try:
        saved_at = services.save_answer(attempt, item_id, answer)
    except DomainError:
        db.session.commit()  # keep a lazy finalisation
        raise
    db.session.commit()
    return jsonify(saved_at=saved_at.isoformat())


@bp.post("/attempts/<int:attempt_id>/submit")
@token_required
@retrying
def submit(attempt_id: int):
    attempt = services.attempt_for(g.api_user, attempt_id)
    services.submit_attempt(attempt)
    db.session.commit()
    status = "submitted" if attempt.status is not AttemptStatus.IN_PROGRESS else "in_progress"
    return jsonify(status=status)


@bp.post("/attempts/<int:attempt_id>/events")
@token_required
@retrying
def events(attempt_id: int):
    attempt = services.attempt_for(g.api_user, attempt_id)
    body = json_object()
    try:
        at = datetime.fromisoformat(str(body.get("at", ""))).astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or one UTC cannot hold (year 1, 9999)
        at = None
    auto = services.record_proctor_event(attempt, str(body.get("kind", "")), at)
    db.session.commit()
    # saved_at: the server's clock, so a phone waking from sleep corrects its timer at once.
    return jsonify(
        departures=attempt.departures, auto_submitted=auto, saved_at=clock.now().isoformat()
    )


def _oversees(user, session) -> bool:
    """Staff who see every attempt of the session, as on its pages (exams.views): admins,
    the class's own trainers, examiners of its trade. Not every trainer or examiner."""
    if user.role is Role.EXAMINER:
        return session.cohort.trade in user.trades
    return can_manage(user, session.cohort)


@bp.get("/attempts/<int:attempt_id>/result")
@token_required
def result(attempt_id: int):
    user = g.api_user
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return error(404, "attempt_not_found", _("No such exam."))
    staff = _oversees(user, attempt.session)
    if not staff and attempt.user_id != user.id:
        return error(403, "not_your_attempt", _("This is someone else's exam."))
    services.touch(attempt)
    db.session.commit()
    if not staff:
        published = db.session.scalar(
            db.select(Result).where(
                Result.session_id == attempt.session_id,
                Result.user_id == user.id,
                Result.status.in_([ResultStatus.PUBLISHED, ResultStatus.FINAL]),
            )
        )
        if published is None:
            return error(403, "not_published", _("Your result is shown once it is published."))
    if attempt.status is not AttemptStatus.GRADED:
        return error(409, "not_graded", _("This exam is not graded yet."))
    pass_mark = attempt.session.blueprint.pass_mark
    return jsonify(
        score=attempt.score,
        max_score=attempt.max_hundredths / 100,
        passed=attempt.score is not None and attempt.score >= pass_mark,
        by_area=attempt.by_area,
    )


# --- public certificate verification (no token) -----------------------------------------


@bp.get("/certificates/<number>/verify")
@lookup_limit(exempt_when=has_valid_signature)
def verify_certificate(number: str):
    """The verdict as JSON, for employers' systems. Free with a good `sig`; otherwise it
    draws from the same budget as the public lookups (numbers are sequential)."""
    verification = request_verification(number, request.args.get("sig") or None)
    response = jsonify(verification.to_json())
    response.headers["Cache-Control"] = "no-store"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
