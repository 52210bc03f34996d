"""Email for notifications, over plain smtplib.

Only the transport and the message live here; which notifications go out, and when, is
decided in services.send_pending_emails. Nothing here touches the database.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from certify.notifications.messages import render_in

log = logging.getLogger(__name__)

SSL_PORT = 465
STARTTLS_PORT = 587
PLAIN_PORT = 25
OPEN_PATH = "/notifications/{id}/open"  # the route in views.open_notification
LIST_PATH = "/notifications/"


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    username: str
    password: str
    use_ssl: bool
    use_tls: bool
    sender: str
    sender_name: str


def flag(value: Any) -> bool:
    """Environment values arrive as text: "1", "true", "yes" and "on" mean yes."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def mail_settings(config: Mapping[str, Any]) -> MailSettings | None:
    """The SMTP settings, or None when MAIL_SERVER is unset: then nothing is emailed."""
    server = (config.get("MAIL_SERVER") or "").strip()
    if not server:
        return None
    use_ssl = flag(config.get("MAIL_USE_SSL"))
    use_tls = not use_ssl and flag(config.get("MAIL_USE_TLS"))
    default_port = SSL_PORT if use_ssl else STARTTLS_PORT if use_tls else PLAIN_PORT
    try:
        port = int(config.get("MAIL_PORT") or default_port)
    except (TypeError, ValueError):
        log.warning("MAIL_PORT=%r is not a number; using %d", config.get("MAIL_PORT"), default_port)
        port = default_port
    username = config.get("MAIL_USERNAME") or ""
    return MailSettings(
        server=server,
        port=port,
        username=username,
        password=config.get("MAIL_PASSWORD") or "",
        use_ssl=use_ssl,
        use_tls=use_tls,
        sender=config.get("MAIL_FROM") or username or f"certify@{server}",
        sender_name=config.get("ISSUER_NAME") or "",
    )


def email_of(user: Any) -> str | None:
    """Where this person's email goes, if they gave an address at all."""
    address = (getattr(user, "email", None) or "").strip()
    return address if "@" in address else None


def _both_languages(zh: str, en: str) -> str:
    """Chinese first, then English; once only while the Chinese catalog lacks the text."""
    return zh if zh == en else f"{zh}\n{en}"


def compose(
    settings: MailSettings,
    *,
    notification_id: int,
    kind: str,
    params: dict[str, Any],
    link: str,
    address: str,
    base_url: str,
) -> EmailMessage:
    """One notification as an email: the Chinese sentence with the English one after it, and
    a link through the app so that following it marks the notification read."""
    zh_title, zh_text = render_in("zh", kind, params)
    en_title, en_text = render_in("en", kind, params)
    path = OPEN_PATH.format(id=notification_id) if link else LIST_PATH
    with force_locale("zh"):
        zh_footer = _("This email was sent by Certify. Please do not reply to it.")
    with force_locale("en"):
        en_footer = _("This email was sent by Certify. Please do not reply to it.")

    message = EmailMessage()
    message["Subject"] = zh_title if zh_title == en_title else f"{zh_title} / {en_title}"
    message["From"] = formataddr((settings.sender_name, settings.sender))
    message["To"] = address
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(
        f"{_both_languages(zh_text, en_text)}\n\n"
        f"{base_url.rstrip('/')}{path}\n\n"
        f"--\n{_both_languages(zh_footer, en_footer)}\n"
    )
    return message


def connect(settings: MailSettings, timeout: float) -> smtplib.SMTP:
    """An open, logged-in connection; every network step gives up after `timeout` seconds."""
    context = ssl.create_default_context()
    if settings.use_ssl:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.server, settings.port, timeout=timeout, context=context
        )
    else:
        connection = smtplib.SMTP(settings.server, settings.port, timeout=timeout)
    try:
        if settings.use_tls:
            connection.starttls(context=context)
        if settings.username:
            connection.login(settings.username, settings.password)
    except BaseException:
        disconnect(connection)
        raise
    return connection


def disconnect(connection: smtplib.SMTP) -> None:
    """Say goodbye politely if the server still listens; a dead one is simply dropped."""
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()
