"""One commit per request, at the edge (indico's RH model).

Views call services and never commit. When the view has answered, `commit_request` commits
if the answer is a success (2xx or a redirect) and rolls back otherwise, so a refusal never
half-saves; the error handlers roll back too. Two things bend that rule, each by name:
- `keep_changes()`: a refusal that must still be recorded (a wrong password's count, a wrong
  入场码's count), or the lock that stops the next guess would never be written;
- `discard_changes()`: a view that caught a DomainError and answers 200 anyway (a form shown
  again with its problems) drops whatever the service wrote before it refused.

Reading pages (GET, HEAD) never write: under TESTING a write during one fails the request,
so a GET that starts writing is caught by the suite, not found in production. A page shows
what the clock says (a paper out of time reads as over) and the schedule writes it. The one
that must write says so and why with `@writes_on_read("…")` (following a notification from
an e-mail marks it read): `grep -rn writes_on_read certify` lists it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from certify.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
F = TypeVar("F", bound=Callable[..., object])


class WriteOnRead(RuntimeError):
    """A GET wrote to the database: move the write to a POST, a job or the schedule."""


def writes_on_read(reason: str) -> Callable[[F], F]:
    """Declare a GET view that writes, with the reason; it is committed like a POST."""

    def decorator(view: F) -> F:
        view.writes_on_read = reason  # type: ignore[attr-defined]
        return view

    return decorator


def _may_write() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return request.method not in SAFE_METHODS or bool(getattr(view, "writes_on_read", None))


def keep_changes() -> None:
    """Commit this request's changes although its answer is a refusal (4xx)."""
    g.certify_keep_changes = True


def discard_changes() -> None:
    """Drop what this request wrote so far: it answers with the problems, not the change."""
    db.session.rollback()


def _note_flush(session: Session, _context) -> None:
    if has_request_context() and (session.new or session.dirty or session.deleted):
        g.certify_wrote = True


def _note_statement(state) -> None:
    if has_request_context() and (state.is_insert or state.is_update or state.is_delete):
        g.certify_wrote = True


def _forget_writes(_session: Session) -> None:
    if has_request_context():
        g.pop("certify_wrote", None)


def _start_request() -> None:
    g.certify_wrote = g.certify_keep_changes = False


def _wrote() -> bool:
    """Did this request flush or run an INSERT/UPDATE/DELETE that was not rolled back?
    What a read leaves pending unflushed is not committed: the session ends with the request."""
    return bool(g.get("certify_wrote"))


def commit_request(response):
    """after_request: the one place a request's work is committed (or rolled back)."""
    if not _may_write():
        if _wrote():
            db.session.rollback()
            if current_app.testing:
                raise WriteOnRead(f"{request.method} {request.path} wrote to the database")
            current_app.logger.error("%s %s wrote to the database", request.method, request.path)
        return response
    if response.status_code < 400 or g.get("certify_keep_changes"):
        try:
            db.session.commit()
        except OperationalError:
            # SQLite still locked after its busy timeout, or a connection lost to a restart:
            # nothing was kept, and the client (the exam page) tries again.
            db.session.rollback()
            current_app.logger.warning("commit failed: %s %s", request.method, request.path)
            return _busy()
    else:
        db.session.rollback()
    return response


def _busy():
    from certify.core.views import render_error

    message = _("The server is busy. Try again in a moment.")
    return current_app.make_response(render_error(503, message, "busy"))


def init_transactions(app: Flask) -> None:
    # Listen on the class: Flask-SQLAlchemy makes a new session for each request.
    if not event.contains(Session, "after_flush", _note_flush):
        event.listen(Session, "after_flush", _note_flush)
        event.listen(Session, "do_orm_execute", _note_statement)
        event.listen(Session, "after_rollback", _forget_writes)
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(commit_request)
