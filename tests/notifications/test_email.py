"""Email after the commit, through a fake SMTP server; a broken server breaks nothing."""

import logging

from flask import Response, g

from certify.accounts.models import Role
from certify.config import load_settings
from certify.extensions import db
from certify.notifications import services, views
from certify.notifications.mail import mail_settings
from certify.notifications.messages import render_in
from certify.notifications.models import Notification
from tests.factories import make_user
from tests.notifications.test_services import CERTIFICATE_ENDORSED, CERTIFICATE_REJECTED


def _endorsed(user, link="/certificates/mine"):
    (row,) = services.notify([user], "certificate_endorsed", link, **CERTIFICATE_ENDORSED)
    db.session.commit()
    return row


def _emailed_at(row):
    db.session.expire_all()
    return db.session.get(Notification, row.id).emailed_at


def test_a_notification_is_emailed_once(smtp, worker, frozen_clock):
    row = _endorsed(worker)
    assert services.send_pending_emails() == 1
    assert services.send_pending_emails() == 0
    assert len(smtp.sent) == 1 and _emailed_at(row) == frozen_clock.now()
    (connection,) = smtp.instances
    assert (connection.host, connection.port, connection.timeout) == ("smtp.example.cn", 587, 20)
    assert connection.tls and connection.logged_in == ("certify@example.cn", "s3cret")
    assert connection.closed


def test_the_email_is_chinese_first_with_english_after(smtp, worker):
    row = _endorsed(worker)
    services.send_pending_emails()
    (message,) = smtp.sent
    assert message["To"] == "worker@example.cn"
    assert "certify@example.cn" in message["From"]
    assert "Certificate endorsed" in str(message["Subject"])
    body = message.get_content()
    _title, zh = render_in("zh", "certificate_endorsed", CERTIFICATE_ENDORSED)
    _title, en = render_in("en", "certificate_endorsed", CERTIFICATE_ENDORSED)
    assert en.endswith("has been endorsed by 温州市人力资源和社会保障局.")
    expected = [zh, en] if zh != en else [en]  # once only while the catalog lacks it
    assert body.splitlines()[: len(expected)] == expected
    assert f"http://127.0.0.1:5000/notifications/{row.id}/open" in body


def test_the_email_link_marks_the_notification_read(smtp, client, login, worker):
    row = _endorsed(worker)
    services.send_pending_emails()
    link = next(line for line in smtp.sent[0].get_content().splitlines() if "/open" in line)
    login(worker.username)
    response = client.get(link.removeprefix("http://127.0.0.1:5000"))
    assert response.headers["Location"] == "/certificates/mine"
    db.session.expire_all()
    assert db.session.get(Notification, row.id).read_at is not None


def test_ssl_uses_port_465(smtp, app, monkeypatch, worker):
    monkeypatch.setitem(app.config, "MAIL_USE_SSL", "1")
    _endorsed(worker)
    services.send_pending_emails()
    (connection,) = smtp.instances
    assert connection.port == 465 and connection.ssl and not connection.tls


def test_nothing_is_emailed_without_mail_server(no_smtp, worker):
    row = _endorsed(worker)
    assert services.send_pending_emails() == 0
    assert no_smtp.instances == [] and _emailed_at(row) is None


def test_a_server_that_cannot_be_reached_leaves_the_row_for_later(smtp, worker, caplog):
    row = _endorsed(worker)
    for failure in ("connect", "login", "send"):
        smtp.fail = failure
        with caplog.at_level(logging.WARNING):
            assert services.send_pending_emails() == 0
        assert _emailed_at(row) is None, failure
    assert "smtp.example.cn" in caplog.text
    smtp.fail = None
    assert services.send_pending_emails() == 1 and _emailed_at(row) is not None


def test_a_refused_address_does_not_hold_up_the_others(smtp, worker, admin):
    smtp.refuse = {"worker@example.cn"}
    refused = _endorsed(worker)
    services.notify([admin], "certificate_rejected", **CERTIFICATE_REJECTED)
    db.session.commit()
    assert services.send_pending_emails() == 1
    assert [m["To"] for m in smtp.sent] == ["office@example.cn"]
    assert _emailed_at(refused) is not None  # not retried every minute
    assert services.send_pending_emails() == 0


def test_only_unread_recent_notifications_of_active_people_with_an_address(
    smtp, worker, frozen_clock
):
    no_address = make_user(Role.WORKER, username="no-mail")
    gone = make_user(Role.WORKER, username="gone")
    gone.email, gone.active = "gone@example.cn", False
    db.session.commit()
    old = _endorsed(worker)
    frozen_clock.advance(days=3)
    read = _endorsed(worker)
    services.mark_read(worker, [read.id])
    for user in (no_address, gone):
        _endorsed(user)
    fresh = _endorsed(worker)
    assert services.send_pending_emails() == 1
    assert _emailed_at(fresh) is not None and _emailed_at(old) is None
    assert _emailed_at(read) is None


def test_the_request_tries_email_right_after_its_response(app, smtp, worker):
    row = _endorsed(worker)
    with app.test_request_context("/"):
        g.setdefault(services.JUST_CREATED, []).append(row.id)
        response = views.email_after_response(Response("ok"))
    assert smtp.sent == []  # not while the response is being written
    response.close()
    assert len(smtp.sent) == 1 and smtp.instances[0].timeout == views.AFTER_REQUEST_TIMEOUT
    assert _emailed_at(row) is not None


def test_the_after_request_try_swallows_every_failure(app, smtp, worker, monkeypatch):
    row = _endorsed(worker)

    def explode(**_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "send_pending_emails", explode)
    with app.test_request_context("/"):
        g.setdefault(services.JUST_CREATED, []).append(row.id)
        response = views.email_after_response(Response("ok"))
    response.close()  # no exception
    assert _emailed_at(row) is None


def test_no_after_request_try_without_mail_server_or_when_switched_off(
    app, no_smtp, worker, monkeypatch
):
    row = _endorsed(worker)
    with app.test_request_context("/"):
        g.setdefault(services.JUST_CREATED, []).append(row.id)
        views.email_after_response(Response("ok")).close()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.cn")
    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_REQUEST", "0")
    with app.test_request_context("/"):
        g.setdefault(services.JUST_CREATED, []).append(row.id)
        views.email_after_response(Response("ok")).close()
    assert no_smtp.instances == [] and _emailed_at(row) is None


def test_mail_settings_come_from_the_environment(tmp_path):
    settings = load_settings(
        {
            "CERTIFY_ENV": "testing",
            "MAIL_SERVER": "smtp.qiye.example.cn",
            "MAIL_USE_SSL": "true",
            "MAIL_USERNAME": "noreply@example.cn",
            "MAIL_PASSWORD": "pw",
        },
        instance_path=tmp_path,
    )
    mail = mail_settings(settings.flask_mapping())
    assert (mail.server, mail.port, mail.use_ssl, mail.sender) == (
        "smtp.qiye.example.cn",
        465,
        True,
        "noreply@example.cn",
    )
    unset = load_settings({"CERTIFY_ENV": "testing"}, tmp_path)
    assert mail_settings(unset.flask_mapping()) is None
    bad_port = mail_settings({"MAIL_SERVER": "relay", "MAIL_PORT": "x", "MAIL_USE_TLS": "yes"})
    assert (bad_port.port, bad_port.use_tls) == (587, True)
