"""The application cannot change or delete an audit entry, whichever ORM path it takes."""

import pytest
import sqlalchemy as sa

from certify.audit.chain import verify_chain
from certify.audit.models import AppendOnlyViolation, AuditEvent
from certify.extensions import db


def _first() -> AuditEvent:
    return db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).first()


@pytest.mark.parametrize(
    ("attribute", "value"),
    [("after", {"n": 99}), ("actor_username", "someone"), ("hash", "0" * 64), ("prev_hash", None)],
)
def test_changing_a_loaded_entry_is_refused(trail, attribute, value):
    event = _first()
    setattr(event, attribute, value)
    with pytest.raises(AppendOnlyViolation, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert verify_chain().ok


def test_setting_the_same_value_again_is_harmless(trail):
    event = _first()
    event.actor_username = event.actor_username
    db.session.commit()
    assert verify_chain().ok


def test_deleting_an_entry_is_refused(trail):
    db.session.delete(_first())
    with pytest.raises(AppendOnlyViolation, match="delete"):
        db.session.flush()
    db.session.rollback()
    assert verify_chain().entries == 6


@pytest.mark.parametrize(
    "statement",
    [
        sa.update(AuditEvent).values(actor_username="x"),
        sa.update(AuditEvent.__table__).values(actor_username="x"),
        sa.delete(AuditEvent),
        sa.delete(AuditEvent.__table__).where(AuditEvent.__table__.c.id > 0),
    ],
    ids=["orm-update", "core-update", "orm-delete", "core-delete"],
)
def test_bulk_statements_through_the_session_are_refused(trail, statement):
    with pytest.raises(AppendOnlyViolation):
        db.session.execute(statement)
    db.session.rollback()
    assert verify_chain().entries == 6


def test_the_legacy_query_delete_is_refused(trail):
    with pytest.raises(AppendOnlyViolation):
        db.session.query(AuditEvent).delete()
    db.session.rollback()


def test_other_tables_are_not_affected(trail, subject):
    from certify.accounts.models import User

    db.session.execute(sa.update(User).where(User.id == subject.id).values(name="改名"))
    db.session.commit()
