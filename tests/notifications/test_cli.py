"""`flask notifications send-email`, as cron runs it."""

import sqlalchemy as sa

from certify.extensions import db
from certify.notifications import services
from certify.notifications.models import Notification
from tests.notifications.test_services import CERTIFICATE_ENDORSED


def test_send_email_sends_what_is_waiting(app, smtp, worker):
    services.notify([worker], "certificate_endorsed", **CERTIFICATE_ENDORSED)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["notifications", "send-email"])
    assert result.exit_code == 0, result.output
    assert "sent 1 email(s)" in result.output and len(smtp.sent) == 1
    again = runner.invoke(args=["notifications", "send-email"])
    assert "sent 0 email(s)" in again.output and len(smtp.sent) == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(Notification.emailed_at)) is not None


def test_send_email_without_mail_server_does_nothing(app, no_smtp, worker):
    services.notify([worker], "certificate_endorsed", **CERTIFICATE_ENDORSED)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["notifications", "send-email"])
    assert result.exit_code == 0 and "MAIL_SERVER is not set" in result.output
    assert no_smtp.instances == []


def test_send_email_with_a_broken_server_exits_cleanly(app, smtp, worker):
    services.notify([worker], "certificate_endorsed", **CERTIFICATE_ENDORSED)
    db.session.commit()
    smtp.fail = "connect"
    result = app.test_cli_runner().invoke(args=["notifications", "send-email"])
    assert result.exit_code == 0, result.output
    assert "sent 0 email(s)" in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(Notification.emailed_at)) is None
