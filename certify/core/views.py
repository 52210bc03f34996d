"""What belongs to no domain: the health check and the error pages."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from certify.core.errors import DomainError
from certify.extensions import db, limiter

bp = Blueprint("core", __name__)

DATABASE_NAMES = {"sqlite": "sqlite", "postgresql": "postgresql"}


@bp.get("/healthz")
@limiter.exempt
def healthz():
    dialect = db.engine.dialect.name
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database=DATABASE_NAMES.get(dialect, dialect)), 503
    return jsonify(status="ok", database=DATABASE_NAMES.get(dialect, dialect))


ERROR_TEXTS = {
    400: (_l("Something in the request was wrong"), _l("Go back, reload the page and try again.")),
    403: (
        _l("You do not have access to this page"),
        _l("If you think you should, ask the assessment office to check your account."),
    ),
    404: (_l("Page not found"), _l("Check the address, or go back to the home page.")),
    405: (_l("This action is not allowed here"), _l("Go back and use the buttons on the page.")),
    413: (_l("The file is too large"), _l("Choose a smaller file and try again.")),
    429: (
        _l("Too many tries in a short time"),
        _l("Wait a minute, then try again."),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l("Your data is safe. Try again in a moment; if it happens again, tell the office."),
    ),
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"
    )


def render_error(status: int, detail: str | None = None, code: str | None = None):
    title, advice = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    if wants_json():
        body = {"error": {"code": code or str(status), "message": detail or str(title)}}
        return jsonify(body), status
    return (
        render_template(
            "errors/error.html", status=status, title=title, advice=advice, detail=detail
        ),
        status,
    )


def handle_http_exception(exc: HTTPException):
    detail = None
    if exc.code == 429:
        detail = str(_l("Too many tries. Wait a minute, then try again."))
    elif exc.code == 400 and exc.description and "CSRF" in exc.description:
        detail = str(_l("The form expired. Reload the page and send it again."))
    body, status = render_error(exc.code or 500, detail)
    # A 405 names the methods its address takes (RFC 9110), on a page as in the API.
    allow = [(name, value) for name, value in exc.get_headers() if name == "Allow"]
    return body, status, allow


def handle_domain_error(exc: DomainError):
    db.session.rollback()
    return render_error(exc.status, exc.message, exc.code)


def handle_unexpected(exc: Exception):
    db.session.rollback()
    from flask import current_app

    current_app.logger.exception("Unhandled error")
    return render_error(500)
