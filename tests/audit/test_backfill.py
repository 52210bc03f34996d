"""The migration's copy of the hashing seals old entries exactly as chain.py would."""

import importlib.util
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from certify import PROJECT_ROOT
from certify.audit import chain
from certify.audit.chain import verify_chain
from certify.audit.models import AuditEvent
from certify.audit.services import record_event
from certify.extensions import db
from tests.audit.conftest import ids

MIGRATION = "ca369bca6561_endorsement_batches_notifications_hash_.py"


def _backfill():
    path = PROJECT_ROOT / "migrations" / "versions" / MIGRATION
    spec = importlib.util.spec_from_file_location("audit_backfill_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.backfill_audit_chain


def _insert_unsealed(subject, count: int) -> None:
    """Entries as written before the chain existed: no prev_hash, no hash."""
    start = datetime(2025, 6, 1, 8, 0, 0, 123456, tzinfo=UTC)
    rows = [
        {
            "occurred_at": start + timedelta(minutes=n, microseconds=n),
            "actor_id": subject.id if n % 2 else None,
            "actor_username": subject.username if n % 2 else "system",
            "action": f"legacy.step{n}",
            "subject_type": "users",
            "subject_id": str(subject.id),
            "before": None if n % 3 else {"n": n, "列表": [1, 2.5, None, True]},
            "after": {"n": n + 1, "名字": "张三", "nested": {"b": 1, "a": "温州"}},
        }
        for n in range(count)
    ]
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(sa.insert(AuditEvent.__table__), rows)


def test_backfilled_hashes_are_the_ones_chain_py_computes(subject):
    _insert_unsealed(subject, 7)
    with db.engine.begin() as conn:
        unsealed = conn.scalar(sa.text("SELECT COUNT(*) FROM audit_events WHERE hash IS NULL"))
        assert unsealed == 7
        _backfill()(conn, batch_size=3)  # several batches
    report = verify_chain()
    assert report.ok, report.describe()
    assert report.entries == 8  # subject's own user.created entry, then the seven
    db.session.expire_all()
    for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)):
        assert event.hash == chain.event_hash(chain.fields_of(event), event.prev_hash)


def test_the_backfill_keeps_sealed_entries_and_record_event_continues(subject):
    sealed_hash = db.session.scalar(sa.select(AuditEvent.hash))
    _insert_unsealed(subject, 2)
    with db.engine.begin() as conn:
        _backfill()(conn)
        _backfill()(conn)  # running it again changes nothing
    record_event("test.after_backfill", subject)
    db.session.commit()
    assert db.session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.id == ids()[0])) == (
        sealed_hash
    )
    report = verify_chain()
    assert report.ok and report.entries == 4


def test_without_the_backfill_old_entries_are_reported(subject):
    _insert_unsealed(subject, 1)
    report = verify_chain()
    assert report.broken.kind == chain.UNSEALED
    assert report.broken.event_id == ids()[-1]
