"""Helpers for the audit tests: entries made through record_event, tampering through raw SQL."""

import pytest
import sqlalchemy as sa

from certify.accounts.models import Role
from certify.audit import chain
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


def rewrite_trail(edit, *, renumber: bool = False) -> None:
    """The attacker with database rights who knows the algorithm: read every entry, `edit` the
    list (change, drop or add entries), renumber them if asked, recompute every link and hash
    from the first entry on, and write the trail back with raw SQL, past the application's
    append-only guard (and, on PostgreSQL, past any trigger: session_replication_role)."""
    db.session.rollback()
    select = sa.select(*chain.CHAIN_COLUMNS).order_by(AuditEvent.id)
    rows = [row._asdict() for row in db.session.execute(select)]
    db.session.rollback()
    rows = edit(rows)
    if renumber:
        first = rows[0]["id"]
        for offset, row in enumerate(rows):
            row["id"] = first + offset
    prev = chain.GENESIS
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = chain.event_hash(row, prev)
    with db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text("DELETE FROM audit_events"))
        conn.execute(AuditEvent.__table__.insert(), rows)
        if postgres:
            conn.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), "
                    "(SELECT max(id) FROM audit_events))"
                )
            )
    db.session.expire_all()
