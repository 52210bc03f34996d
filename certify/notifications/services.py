"""Telling people what happened: in the app always, by email when SMTP is configured.

notify() only adds rows to the caller's transaction, so a notification exists exactly when
the change it reports was committed. Email never happens inside that transaction: the rows
are picked up afterwards by send_pending_emails() (the `notifications send-email` command,
run every minute by cron, and a best-effort try right after the request; see views).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from flask_sqlalchemy.pagination import Pagination

from certify.accounts.models import Role, User
from certify.core import clock
from certify.core.forms import is_same_site_path
from certify.extensions import db
from certify.notifications import mail
from certify.notifications.messages import check_params
from certify.notifications.models import Notification

log = logging.getLogger(__name__)

PER_PAGE = 20
MAX_ID = 2**31 - 1
MAX_PAGE = 10_000  # beyond it the OFFSET would overflow the database's integer
MAX_LINK_LENGTH = 255
# Someone who adds an email address later is not sent their whole history; and a message
# nobody could deliver for two days is stale news.
EMAIL_WINDOW = timedelta(days=2)
EMAIL_BATCH = 200
# Request ids waiting for the after-request email attempt (see views.email_after_response).
JUST_CREATED = "notifications_just_created"


def is_local_link(link: str) -> bool:
    """A path inside this site: "/certificates/7", never "//evil.example" or "https://…"."""
    return is_same_site_path(link)


def notify(users: Iterable[User], kind: str, link: str = "", **params: Any) -> list[Notification]:
    """One notification per (distinct) user, added to the caller's transaction and flushed.

    ValueError for an unknown kind, missing or unfit params, or a link off this site: those
    are mistakes in the calling code, not in anyone's input."""
    values = check_params(kind, params)
    if link and (not is_local_link(link) or len(link) > MAX_LINK_LENGTH):
        raise ValueError(f"notification links must be local paths, not {link!r}")
    now = clock.now()
    rows: list[Notification] = []
    seen: set[int] = set()
    for user in users:
        if user.id is None:
            db.session.flush()
        if user.id in seen:
            continue
        seen.add(user.id)
        rows.append(
            Notification(user_id=user.id, kind=kind, params=values, link=link, created_at=now)
        )
    db.session.add_all(rows)
    db.session.flush()
    if has_app_context():
        g.setdefault(JUST_CREATED, []).extend(row.id for row in rows)
    return rows


def notify_role(role: Role, kind: str, link: str = "", **params: Any) -> list[Notification]:
    """Everyone with the role whose account is active: a locked-out former reviewer is not."""
    users = db.session.scalars(
        sa.select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
    )
    return notify(users, kind, link, **params)


def unread_count(user: User) -> int:
    """One COUNT on the (user_id, read_at) index: cheap enough for every page's menu."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def notifications_for(user: User, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """The user's notifications, newest first."""
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    page = min(max(page, 1), MAX_PAGE)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def notification_for(user: User, notification_id: int) -> Notification | None:
    """The notification if it is this user's; someone else's is as good as missing."""
    if not 0 < notification_id <= MAX_ID:  # a URL's number can overflow the column
        return None
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        return None
    return notification


def open_notification(user: User, notification_id: int) -> Notification | None:
    """Reading a notification by following it."""
    notification = notification_for(user, notification_id)
    if notification is not None:
        notification.mark_read(clock.now())
        db.session.flush()
    return notification


def mark_read(user: User, ids: Collection[int] | Literal["all"]) -> int:
    """Mark the user's unread notifications read (the listed ones, or all); returns how many.
    Ids of other people's notifications are ignored."""
    update = (
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    )
    if ids != "all":
        if not ids:
            return 0
        update = update.where(Notification.id.in_(list(ids)))
    result = db.session.execute(update.execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


# --- email ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outgoing:
    notification_id: int
    kind: str
    params: dict[str, Any]
    link: str
    address: str


def _pending_emails(limit: int, only: Collection[int] | None) -> list[_Outgoing]:
    """Unread, unemailed, recent notifications of active users who have an address."""
    query = (
        sa.select(Notification, User)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.emailed_at.is_(None),
            Notification.read_at.is_(None),
            Notification.created_at >= clock.now() - EMAIL_WINDOW,
            User.active.is_(True),
            User.email.is_not(None),
            User.email != "",
        )
        .order_by(Notification.id)
        .limit(limit)
    )
    if only is not None:
        query = query.where(Notification.id.in_(list(only)))
    outgoing = []
    for notification, user in db.session.execute(query):
        address = mail.email_of(user)
        if address:
            outgoing.append(
                _Outgoing(
                    notification.id,
                    notification.kind,
                    dict(notification.params or {}),
                    notification.link,
                    address,
                )
            )
    return outgoing


def _set_emailed(notification_id: int, claimed: bool) -> bool:
    """Claim a row before sending (so cron and the after-request try never both send it) or
    give it back after a failure. Commits at once: the claim must be visible to the others."""
    update = sa.update(Notification).where(Notification.id == notification_id)
    if claimed:
        update = update.where(Notification.emailed_at.is_(None)).values(emailed_at=clock.now())
    else:
        update = update.values(emailed_at=None)
    result = db.session.execute(update.execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def send_pending_emails(
    *, limit: int = EMAIL_BATCH, only: Collection[int] | None = None, timeout: float = 20
) -> int:
    """Email what is waiting (or only the listed notifications); returns how many were sent.

    It commits, so it runs as a job of its own (the CLI, or after a request has finished),
    never inside someone else's transaction. A broken or unreachable SMTP server is logged
    and leaves the rows for the next run; it never raises. Without MAIL_SERVER it does nothing.
    """
    settings = mail.mail_settings(current_app.config)
    if settings is None:
        return 0
    outgoing = _pending_emails(limit, only)
    db.session.rollback()  # end the read; each claim below is its own short transaction
    if not outgoing:
        return 0
    base_url = current_app.config.get("BASE_URL", "")
    try:
        connection = mail.connect(settings, timeout)
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("Cannot reach the mail server %s: %s", settings.server, exc)
        return 0
    sent = 0
    try:
        for item in outgoing:
            message = mail.compose(
                settings,
                notification_id=item.notification_id,
                kind=item.kind,
                params=item.params,
                link=item.link,
                address=item.address,
                base_url=base_url,
            )
            if not _set_emailed(item.notification_id, claimed=True):
                continue  # another sender got there first
            try:
                connection.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                # The address itself is refused: trying again every minute would not help.
                log.warning("Mail server refused %s: %s", item.address, exc)
                continue
            except (smtplib.SMTPException, OSError) as exc:
                _set_emailed(item.notification_id, claimed=False)
                log.warning("Sending notification %d failed: %s", item.notification_id, exc)
                break
            sent += 1
    finally:
        mail.disconnect(connection)
    return sent
