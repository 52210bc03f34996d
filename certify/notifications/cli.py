"""`flask --app wsgi notifications send-email`: production runs it every minute from cron."""

from __future__ import annotations

import click
from flask import current_app

from certify.core.cli import DomainGroup
from certify.notifications import mail, services

notifications_cli = DomainGroup("notifications", help="In-app notifications and their email.")


@notifications_cli.command("send-email")
@click.option("--limit", default=services.EMAIL_BATCH, show_default=True, type=int)
@click.option("--timeout", default=20.0, show_default=True, type=float, help="Seconds.")
def send_email_command(limit: int, timeout: float) -> None:
    """Email waiting notifications. Without MAIL_SERVER it does nothing; a failing mail
    server is logged and the notifications wait for the next run (the exit code stays 0, so
    cron does not mail the operator every minute while the server is down)."""
    if mail.mail_settings(current_app.config) is None:
        click.echo("MAIL_SERVER is not set: nothing is emailed.")
        return
    sent = services.send_pending_emails(limit=max(limit, 1), timeout=timeout)
    click.echo(f"sent {sent} email(s)")
