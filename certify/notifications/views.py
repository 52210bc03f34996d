"""The notifications page, the menu's unread badge, and the email try after each request."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from certify.core.auth import role_required
from certify.core.forms import page_number
from certify.core.transactions import writes_on_read
from certify.extensions import db
from certify.notifications import mail, services
from certify.notifications.messages import render_text

log = logging.getLogger(__name__)

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

# The after-request email try must not hold a worker long when the mail server hangs.
AFTER_REQUEST_TIMEOUT = 5


@bp.get("/")
@role_required()
def index():
    page = page_number(request.args)
    pagination = services.notifications_for(current_user, page)
    rows = [(n, render_text(n.kind, n.params)) for n in pagination.items]
    return render_template(
        "notifications/index.html",
        pagination=pagination,
        rows=rows,
        unread=services.unread_count(current_user),
    )


@bp.get("/<int:notification_id>/open")
@writes_on_read("following a notification marks it read")
@role_required()
def open_notification(notification_id: int):
    """Following a notification marks it read, then goes where it points: only ever to a
    path on this site, so a stored link cannot send someone to a look-alike login page."""
    notification = services.open_notification(current_user, notification_id)
    if notification is None:
        abort(404)
    if services.is_local_link(notification.link):
        return redirect(notification.link)
    if notification.link:
        flash(_("That link does not lead to a page of this site, so it was not opened."), "error")
    return redirect(url_for("notifications.index"))


@bp.post("/read")
@role_required()
def read_all():
    services.mark_read(current_user, "all")
    flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.app_context_processor
def inject_unread_count() -> dict[str, Callable[[], int]]:
    """A function, not a number: the COUNT runs only when a page's menu asks for it."""
    return {"unread_notification_count": _unread_for_menu}


def _unread_for_menu() -> int:
    if not current_user.is_authenticated:
        return 0
    try:
        return services.unread_count(current_user)
    except SQLAlchemyError:  # an error page must still render when the database is down
        log.warning("Cannot count unread notifications", exc_info=True)
        return 0


@bp.after_app_request
def email_after_response(response: Response) -> Response:
    """If this request created notifications and SMTP is configured, try to email them once
    the response has gone out (the request has committed by then). Cron catches the rest."""
    created = g.pop(services.JUST_CREATED, None)
    config = current_app.config
    if (
        created
        and mail.mail_settings(config) is not None
        and mail.flag(config.get("MAIL_SEND_AFTER_REQUEST", True))
    ):
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.call_on_close(partial(_email_now, app, tuple(created)))
    return response


def _email_now(app: Flask, ids: tuple[int, ...]) -> None:
    with app.app_context():
        try:
            services.send_pending_emails(only=ids, timeout=AFTER_REQUEST_TIMEOUT)
        except Exception:  # a mail problem must never surface in someone's request
            log.warning("Emailing notifications after the request failed", exc_info=True)
            db.session.rollback()
