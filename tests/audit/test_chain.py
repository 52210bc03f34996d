"""The hash chain: entries link and seal as they are recorded; any edit or deletion shows."""

import itertools

import pytest
import sqlalchemy as sa

from certify.audit import chain
from certify.audit.chain import GENESIS, verify_chain
from certify.audit.models import AuditEvent
from certify.audit.services import record_event
from certify.extensions import db
from tests.audit.conftest import ids, tamper


def _events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def test_entries_link_to_the_one_before_and_verify(trail):
    events = _events()
    assert len(events) == 6
    assert events[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    for event in events:
        assert event.hash == chain.event_hash(chain.fields_of(event), event.prev_hash)
    assert len({e.hash for e in events}) == 6
    report = verify_chain()
    assert report.ok, report.describe()
    assert report.entries == 6
    assert report.last_id == events[-1].id
    assert report.last_hash == events[-1].hash


def test_an_empty_trail_is_intact():
    report = verify_chain()
    assert report.ok and report.entries == 0 and report.last_hash == GENESIS


def test_a_returned_entry_is_already_sealed(subject):
    event = record_event("test.sealed", subject, after={"x": 1})
    assert event.id and event.hash and event.prev_hash
    db.session.rollback()  # rolls back with the caller's change
    assert verify_chain().entries == 1


def test_values_are_hashed_as_the_database_returns_them(subject):
    """Tuples come back as lists and integer keys as strings: the hash must not care."""
    record_event("test.shapes", subject, after={"ids": (1, 2), 3: "三", "f": 0.1, "n": None})
    db.session.commit()
    event = _events()[-1]
    assert event.after == {"ids": [1, 2], "3": "三", "f": 0.1, "n": None}
    assert verify_chain().ok


def test_quotes_backslashes_and_rare_characters_hash_alike_in_the_database(subject):
    """On PostgreSQL the database hashes the entry: its text must be the one Python checks."""
    text = 'say "id-0" \\ prev-0 刘䶮 😀\n\t'
    record_event("test.text", subject, before={"name": text}, after={text: [text, 1.5]})
    db.session.commit()
    event = _events()[-1]
    assert event.after == {text: [text, 1.5]}
    assert event.hash == chain.event_hash(chain.fields_of(event), event.prev_hash)
    assert verify_chain().ok


def test_the_id_is_part_of_the_hash(trail):
    event = _events()[2]
    fields = chain.fields_of(event)
    assert chain.event_hash({**fields, "id": event.id + 100}, event.prev_hash) != event.hash


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("after", '{"n": 99, "名": "张三"}'),
        ("actor_username", "someone_else"),
        ("occurred_at", "2020-01-01 00:00:00.000000"),
        ("action", "test.other"),
        ("subject_id", "999"),
        ("prev_hash", "f" * 64),
    ],
)
def test_an_altered_entry_is_caught_with_its_id(trail, column, value):
    target = trail[3]
    tamper(f'UPDATE audit_events SET "{column}" = :value WHERE id = :id', value=value, id=target)
    report = verify_chain()
    assert not report.ok
    assert report.broken.kind == chain.ALTERED
    assert report.broken.event_id == target
    assert report.entries == 3  # the three before it are sound
    assert f"entry {target} was altered" in report.describe()


def test_a_rewritten_entry_with_a_fresh_hash_breaks_the_next_link(trail):
    """Someone who knows the algorithm recomputes the edited entry's hash: the next entry
    still points at the old one."""
    target = _events()[2]
    fields = {**chain.fields_of(target), "after": {"n": 42}}
    forged = chain.event_hash(fields, target.prev_hash)
    tamper(
        'UPDATE audit_events SET "after" = :after, hash = :hash WHERE id = :id',
        after='{"n": 42}',
        hash=forged,
        id=target.id,
    )
    report = verify_chain()
    assert report.broken.kind == chain.BROKEN_LINK
    assert report.broken.event_id == trail[3]
    assert report.broken.previous_id == target.id


def test_a_deleted_middle_entry_is_caught(trail):
    tamper("DELETE FROM audit_events WHERE id = :id", id=trail[2])
    report = verify_chain()
    assert report.broken.kind == chain.BROKEN_LINK
    assert report.broken.event_id == trail[3]
    assert report.broken.previous_id == trail[1]
    assert "deleted" in report.describe()


def test_a_deleted_first_entry_is_caught(trail):
    tamper("DELETE FROM audit_events WHERE id = :id", id=trail[0])
    report = verify_chain()
    assert report.broken.kind == chain.BROKEN_LINK
    assert report.broken.event_id == trail[1]
    assert report.broken.expected == GENESIS


def test_swapped_entries_are_caught(trail):
    a, b = trail[1], trail[2]
    tamper("UPDATE audit_events SET id = -1 WHERE id = :a", a=a)
    tamper("UPDATE audit_events SET id = :a WHERE id = :b", a=a, b=b)
    tamper("UPDATE audit_events SET id = :b WHERE id = -1", b=b)
    report = verify_chain()
    assert not report.ok
    assert report.broken.event_id == a


def test_an_entry_inserted_outside_the_application_is_caught(trail, subject):
    tamper(
        "INSERT INTO audit_events (occurred_at, actor_username, action, subject_type, subject_id)"
        " VALUES ('2026-01-01 00:00:00.000000', 'ghost', 'test.ghost', 'users', :sid)",
        sid=str(subject.id),
    )
    report = verify_chain()
    assert report.broken.kind == chain.UNSEALED
    assert report.broken.event_id == max(ids())


def test_a_truncated_tail_needs_the_recorded_last_hash(trail):
    """Deleting the newest entries leaves a shorter, intact chain. Only a last hash kept
    outside the database shows it."""
    recorded = verify_chain().last_hash
    assert verify_chain(expect_last=recorded).ok
    tamper("DELETE FROM audit_events WHERE id = :id", id=trail[-1])
    assert verify_chain().ok  # what the chain alone can tell
    report = verify_chain(expect_last=recorded)
    assert report.broken.kind == chain.ANCHOR_MISSING
    assert recorded in report.describe()


def test_the_recorded_hash_still_matches_after_more_entries(trail, subject):
    recorded = verify_chain().last_hash
    record_event("test.later", subject)
    db.session.commit()
    report = verify_chain(expect_last=recorded.upper())
    assert report.ok and report.entries == 7
    assert report.last_hash != recorded


def test_new_entries_after_a_rollback_link_to_the_last_committed_one(trail, subject):
    record_event("test.rolled_back", subject)
    db.session.rollback()
    record_event("test.kept", subject)
    db.session.commit()
    events = _events()
    assert [e.action for e in events[-2:]] == ["test.step4", "test.kept"]
    assert events[-1].prev_hash == events[-2].hash
    assert verify_chain().ok


def test_entries_inside_a_rolled_back_savepoint_leave_the_chain_whole(trail, subject):
    nested = db.session.begin_nested()
    record_event("test.in_savepoint", subject)
    nested.rollback()
    record_event("test.after_savepoint", subject)
    db.session.commit()
    assert verify_chain().ok
    assert _events()[-1].action == "test.after_savepoint"
