"""/api/v1, for the exam page and other tools: bearer tokens, no CSRF.

What each operation reads, answers and refuses is declared here (decorators) and in schemas.py,
once: the views load and dump with those declarations and /api/v1/openapi.json is generated
from them (spec.py). Every error answers `{"error": {"code": ..., "message": ...}}`.

Nothing here commits: a request's work is committed at the edge (certify/core/transactions.py)
when it answers a success, or with keep_changes() for the refusals that must be recorded.
Reads never write: an attempt whose time is up reads as over (`expired`, not graded yet) until
the schedule (`flask exams expire-overdue`, every minute) or the worker's next call hands
it in.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from tenacity import retry, retry_if_exception_type, stop_after_attempt

from certify.accounts import sessions, throttle
from certify.accounts.limits import throttle_logins
from certify.accounts.services import LoginFailed, authenticate
from certify.api import schemas
from certify.api.spec import BEARER, ApiBlueprint, note_refusal, note_security, refuses
from certify.core import clock
from certify.core.errors import DomainError
from certify.core.transactions import keep_changes
from certify.exams import services
from certify.exams.autosave import save_answer_quickly
from certify.exams.models import Attempt, AttemptStatus
from certify.extensions import csrf, db, limiter
from certify.results.models import Result, ResultStatus
from certify.verification.limits import has_valid_signature, lookup_limit, request_verification

bp = ApiBlueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    info={
        "title": "Certify API",
        "version": "1.0.0",
        "description": (
            "Timed exams for skills certification. Times are ISO 8601 in UTC. Every error "
            'answers `{"error": {"code": "...", "message": "..."}}`: the code is stable, the '
            "message is for people (Chinese)."
        ),
    },
    tags=[
        {"name": "auth", "description": "Tokens"},
        {"name": "exams", "description": "My exam sessions"},
        {"name": "attempts", "description": "Answering, handing in, results"},
        {"name": "certificates", "description": "Public verification (no token)"},
        {"name": "meta", "description": "This document"},
    ],
)
csrf.exempt(bp)
TYPE_NAMES = {"single": "single", "multiple": "multiple", "true_false": "true_false"}
RETRIES = 3  # SQLite answers "database is locked" when two writers meet; try again
SAVED = schemas.Saved()
ANSWER = schemas.AnswerBody()


def error(status: int, code: str, message: str):
    return jsonify(error={"code": code, "message": message}), status


def busy():
    return error(503, "busy", _("The server is busy. Try again in a moment."))


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    return error(exc.status, exc.code, exc.message)  # rolled back at the edge, unless kept


def _rolled_back(_state) -> None:
    db.session.rollback()  # SQLite's "database is locked", or a connection lost with a restart


# Up to RETRIES tries, each failure rolled back; the last one's OperationalError is raised.
busy_retry = retry(
    retry=retry_if_exception_type(OperationalError),
    stop=stop_after_attempt(RETRIES),
    after=_rolled_back,
    reraise=True,
)


def token_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            user = _token_user(request.headers.get("Authorization", ""))
        except OperationalError:  # the database is restarting: say so, the client retries
            return busy()
        if user is None:
            return error(401, "unauthorized", _("Log in again: the token is missing or expired."))
        g.api_user = user
        return view(*args, **kwargs)

    note_security(wrapped, BEARER)
    note_refusal(wrapped, 401, "unauthorized")
    note_refusal(wrapped, 503, "busy")
    return wrapped


@busy_retry
def _token_user(header: str):
    if not header.startswith("Bearer "):
        return None
    return sessions.user_for_token(header[7:].strip())


def retrying(view: Callable) -> Callable:
    """The view again when the database is busy; its writes must be flushed inside it."""
    tried = busy_retry(view)

    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return tried(*args, **kwargs)
        except OperationalError:
            return busy()

    note_refusal(wrapped, 503, "busy")
    return wrapped


def own_attempt(view: Callable) -> Callable:
    """`attempt_id` → `attempt`, the caller's own."""

    @wraps(view)
    def wrapped(*args, attempt_id: int, **kwargs):
        return view(*args, attempt=services.attempt_for(g.api_user, attempt_id), **kwargs)

    note_refusal(wrapped, 404, "attempt_not_found")
    note_refusal(wrapped, 403, "not_your_attempt")
    return wrapped


@bp.get("/openapi.json", tags=["meta"])
@bp.response(200, description="This document, generated from the routes' declarations")
def openapi():
    """This document"""
    return jsonify(current_app.extensions["certify.openapi"])


@bp.post("/auth/token", tags=["auth"])
@throttle_logins()
@bp.arguments(schemas.TokenBody)
@bp.response(200, schemas.Token, description="Token")
@refuses(401, "login_failed")
@refuses(403, "password_change_required")
@refuses(429, "429")
def token(body: dict):
    """Get a token (workers may use their ID number)"""
    try:
        user = authenticate(body["username"], body["password"], throttle.client_address())
    except LoginFailed as exc:
        keep_changes()  # the failed-login count
        return error(exc.status, exc.code, exc.message)
    if user.must_change_password:
        # The printed first password opens only the page that replaces it, not the API.
        keep_changes()  # a login all the same: what it recorded (the count it reset) stays
        return error(
            403,
            "password_change_required",
            _("Choose your own password first: log in on the website and change it."),
        )
    value, expires = sessions.issue_token(user)
    return {"token": value, "expires_at": expires}


@bp.delete("/auth/token", endpoint="revoke_token", tags=["auth"])
@token_required
@bp.response(204, description="Revoked")
def revoke_token():
    """Log out: this token stops working at once"""
    sessions.revoke_token(request.headers["Authorization"][7:].strip())
    return current_app.response_class(status=204)


def _status(attempt: Attempt) -> str:
    return str(attempt.status_at(clock.now()))


def _session_json(session, attempt) -> dict:
    opens, closes, extra = session.window_for(g.api_user.id)
    return {
        "id": session.id,
        "name": session.name,
        "opens_at": opens,
        "closes_at": closes,
        "duration_minutes": session.duration_minutes + extra,
        "needs_access_code": bool(session.access_code),
        "attempt_id": attempt.id if attempt else None,
        "attempt_status": _status(attempt) if attempt else None,
    }


@bp.get("/exams", tags=["exams"])
@token_required
@bp.response(200, schemas.Session(many=True), description="Sessions")
def exams():
    """Sessions open to me

    The sessions of my classes that open within 12 hours, are open, or that I have started.
    """
    return [_session_json(s, a) for s, a in services.sessions_for(g.api_user)]


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
        "deadline": attempt.deadline,
        "questions": questions,
        "answers": {str(k): v for k, v in answers.items()},
    }


@bp.post("/exams/<int:session_id>/attempts", tags=["exams"])
@token_required
@retrying
@bp.arguments(schemas.StartBody, required=False)
@bp.response(200, schemas.Paper, description="The paper, without answer keys")
@refuses(404, "session_not_found")
@refuses(403, "not_enrolled")
@refuses(409, "not_open_yet", "session_closed")
@refuses(422, "validation_failed")
@refuses(423, "access_code_locked")
def start(body: dict, session_id: int):
    """Start or resume my attempt

    A wrong 入场码 is refused (422) and counted; after ACCESS_CODE_TRIES of them the session is
    locked for the worker for a while (423), even with the right code.
    """
    session = services.get_session(session_id)
    try:
        attempt = services.start_attempt(session, g.api_user, body["access_code"])
    except (services.WrongAccessCode, services.AccessCodeLocked):
        db.session.flush()
        keep_changes()  # the count of wrong codes
        raise
    db.session.flush()  # in the retried block: a busy database is met here, not at the commit
    return paper_json(attempt, session.blueprint.trade_id)


def quick_save(view: Callable) -> Callable:
    """The autosave fast path first (one read and one guarded write, in autocommit); every case
    it leaves (refusals, lapsed attempts, SQLite's busy moments) goes through `view`."""

    @wraps(view)
    def wrapped(attempt_id: int, item_id: int):
        header = request.headers.get("Authorization", "")
        body = bp.ARGUMENTS_PARSER.load(ANSWER)
        if body is not None and header.startswith("Bearer "):
            saved_at = save_answer_quickly(header[7:].strip(), attempt_id, item_id, body["answer"])
            if saved_at is not None:
                return jsonify(SAVED.dump({"saved_at": saved_at}))
        return view(attempt_id=attempt_id, item_id=item_id)

    return wrapped


ITEM_ID = {
    "in": "path",
    "name": "item_id",
    "description": "The question's id in the paper (its number on it)",
}


@bp.put("/attempts/<int:attempt_id>/answers/<int:item_id>", tags=["attempts"], parameters=[ITEM_ID])
@limiter.exempt  # every click of every worker; a token and one's own attempt are needed anyway
@quick_save
@token_required
@retrying
@own_attempt
@bp.arguments(schemas.AnswerBody)
@bp.response(200, schemas.Saved, description="Saved")
@refuses(404, "question_not_on_paper")
@refuses(409, "attempt_closed", "past_deadline")
@refuses(422, "validation_failed")
def save(body: dict, attempt: Attempt, item_id: int):
    """Save one answer (before the deadline)

    `validation_failed`: an option that is not the question's, or a choice its type does not
    allow (two options of a single-choice question).
    """
    try:
        saved_at = services.save_answer(attempt, item_id, body["answer"])
    except DomainError:
        db.session.flush()
        keep_changes()  # an attempt found lapsed on the way is handed in all the same
        raise
    db.session.flush()
    return {"saved_at": saved_at}


@bp.post("/attempts/<int:attempt_id>/submit", tags=["attempts"])
@token_required
@retrying
@own_attempt
@bp.response(200, schemas.HandedIn, description="Handed in")
def submit(attempt: Attempt):
    """Hand in (idempotent)"""
    services.submit_attempt(attempt)
    db.session.flush()
    status = "submitted" if attempt.status is not AttemptStatus.IN_PROGRESS else "in_progress"
    return {"status": status}


@bp.post("/attempts/<int:attempt_id>/events", tags=["attempts"])
@token_required
@retrying
@own_attempt
@bp.arguments(schemas.EventBody)
@bp.response(200, schemas.Logged, description="Logged")
def events(body: dict, attempt: Attempt):
    """Log leaving or returning to the exam page

    `hidden` and `blur` count as departures (those within a few seconds as one); at the
    session's departure limit the paper is handed in (`auto_submitted`).
    """
    auto = services.record_proctor_event(attempt, body["kind"], body["at"])
    db.session.flush()
    return {"departures": attempt.departures, "auto_submitted": auto, "saved_at": clock.now()}


@bp.get("/attempts/<int:attempt_id>/result", tags=["attempts"])
@token_required
@bp.response(200, schemas.Result, description="Result")
@refuses(404, "attempt_not_found")
@refuses(403, "not_your_attempt", "not_published")
@refuses(409, "not_graded")
def result(attempt_id: int):
    """Score and breakdown (workers: after publication)

    The worker sees their own once it is published; staff who oversee the session see every
    attempt's once it is graded. An attempt whose time is up is graded when it is handed in,
    by the schedule within a minute (409 `not_graded` until then).
    """
    user = g.api_user
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return error(404, "attempt_not_found", _("No such exam."))
    staff = services.may_oversee(user, attempt.session)
    if not staff and attempt.user_id != user.id:
        return error(403, "not_your_attempt", _("This is someone else's exam."))
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
    return {
        "score": attempt.score,
        "max_score": attempt.max_hundredths / 100,
        "passed": attempt.score is not None and attempt.score >= pass_mark,
        "by_area": attempt.by_area,
    }


# --- public certificate verification (no token) -----------------------------------------

NUMBER = {
    "in": "path",
    "name": "number",
    "schema": {"type": "string", "minLength": 1, "maxLength": 32},
}


@bp.get("/certificates/<number>/verify", tags=["certificates"], parameters=[NUMBER])
@lookup_limit(exempt_when=has_valid_signature)
@bp.arguments(schemas.VerifyQuery, location="query")
@bp.response(200, schemas.Verification, description="The verdict")
@refuses(429, "429")
def verify_certificate(query: dict, number: str):
    """Verify a certificate (the QR code's number and signature)

    Public, no token. With a valid `sig` it is not rate limited; without one, or with a bad
    one, it shares the per-client lookup limit (VERIFY_LOOKUP_LIMIT). `not_found` and `invalid`
    are verdicts, answered with 200 and nulls. Names and ID numbers are masked.
    """
    verification = request_verification(number, query.get("sig") or None)
    response = jsonify(verification.to_json())
    response.headers["Cache-Control"] = "no-store"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
