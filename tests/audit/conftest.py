"""Helpers for the audit tests: entries made through record_event, tampering through raw SQL."""

import pytest
import sqlalchemy as sa

from certify.accounts.models import Role
from certify.audit.models import AuditEvent
from certify.audit.services import record_event
from certify.extensions import db
from tests.factories import make_user


@pytest.fixture
def subject(app):
    """Something to audit; creating it records one entry (user.created)."""
    return make_user(Role.TRAINER, username="subject1")


@pytest.fixture
def trail(subject):
    """Six entries over three commits; returns their ids in order."""
    for n in range(5):
        record_event(f"test.step{n}", subject, before={"n": n}, after={"n": n + 1, "名": "张三"})
        if n % 2:
            db.session.commit()
    db.session.commit()
    return ids()


def ids() -> list[int]:
    return list(db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)))


def tamper(sql: str, **params) -> None:
    """Change the table behind the application's back, as someone with database access could."""
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)
    db.session.expire_all()
