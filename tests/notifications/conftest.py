"""People to notify, and a fake SMTP server that records what it is sent."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from certify.accounts.models import Role
from certify.extensions import db
from tests.factories import make_user


@pytest.fixture
def worker(app):
    user = make_user(Role.WORKER, username="w-notify")
    user.email = "worker@example.cn"
    db.session.commit()
    return user


@pytest.fixture
def admin(app):
    user = make_user(Role.ADMIN, username="admin-notify")
    user.email = "office@example.cn"
    db.session.commit()
    return user


class FakeSMTP:
    """Stands in for smtplib.SMTP and SMTP_SSL; `fail` makes a step raise like a broken server."""

    instances: list[FakeSMTP] = []
    sent: list[EmailMessage] = []
    fail: str | None = None  # "connect", "login" or "send"
    refuse: set[str] = set()  # addresses refused as recipients

    def __init__(self, host, port, timeout=None, context=None):
        if FakeSMTP.fail == "connect":
            raise ConnectionRefusedError(111, "Connection refused")
        self.host, self.port, self.timeout = host, port, timeout
        self.ssl = context is not None
        self.tls = False
        self.logged_in = None
        self.closed = False
        FakeSMTP.instances.append(self)

    def starttls(self, context=None):
        self.tls = True

    def login(self, user, password):
        if FakeSMTP.fail == "login":
            raise smtplib.SMTPAuthenticationError(535, b"bad credentials")
        self.logged_in = (user, password)

    def send_message(self, message):
        if FakeSMTP.fail == "send":
            raise smtplib.SMTPServerDisconnected("gone")
        if message["To"] in FakeSMTP.refuse:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no such user")})
        FakeSMTP.sent.append(message)

    def quit(self):
        self.closed = True

    def close(self):
        self.closed = True


@pytest.fixture
def smtp(app, monkeypatch):
    """SMTP configured (STARTTLS on 587) and answered by FakeSMTP."""
    FakeSMTP.instances, FakeSMTP.sent, FakeSMTP.fail, FakeSMTP.refuse = [], [], None, set()
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(smtplib, "SMTP_SSL", FakeSMTP)
    for key, value in {
        "MAIL_SERVER": "smtp.example.cn",
        "MAIL_USE_TLS": "true",
        "MAIL_USERNAME": "certify@example.cn",
        "MAIL_PASSWORD": "s3cret",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    return FakeSMTP


@pytest.fixture
def no_smtp(app, monkeypatch):
    """MAIL_SERVER unset; any connection attempt would be recorded."""
    FakeSMTP.instances, FakeSMTP.sent, FakeSMTP.fail, FakeSMTP.refuse = [], [], None, set()
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(smtplib, "SMTP_SSL", FakeSMTP)
    monkeypatch.delitem(app.config, "MAIL_SERVER", raising=False)
    return FakeSMTP
