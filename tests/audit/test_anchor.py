"""An anchor held outside the database catches a rewrite that recomputed every hash."""

import json

import pytest

from certify.audit import anchor as anchors
from certify.audit.anchor import (
    BEFORE,
    CHANGED,
    INSERTED,
    MOVED,
    REMOVED,
    Anchor,
    check_anchor,
    take_anchor,
)
from certify.audit.chain import verify_chain
from certify.audit.services import record_event
from certify.extensions import db
from tests.audit.conftest import ids, rewrite_trail, tamper


@pytest.fixture
def anchored(trail):
    """The six entries of `trail`, anchored as an endorsement package would anchor them."""
    anchor = take_anchor()
    assert anchor.complete and [c.id for c in anchor.checkpoints] == trail
    assert anchor.head.id == trail[-1] and anchor.head.hash == verify_chain().last_hash
    return anchor


def _forged(row, **changes):
    return {**row, "action": "test.forged", "after": {"forged": True}, **changes}


def test_a_clean_trail_with_entries_after_the_anchor_agrees(anchored, subject):
    record_event("test.later", subject, after={"n": 7})
    db.session.commit()
    assert check_anchor(anchored) is None
    assert verify_chain().ok and verify_chain().entries == 7


def test_an_anchor_reads_back_from_its_json(anchored):
    assert Anchor.from_json(json.loads(json.dumps(anchored.to_json()))) == anchored


def test_an_empty_trail_has_no_anchor():
    assert take_anchor() is None


def test_a_rewrite_with_every_hash_recomputed_is_caught(anchored, trail):
    def edit(rows):
        rows[2]["after"] = {"n": 42}
        return rows

    rewrite_trail(edit)
    assert verify_chain().ok  # the chain alone cannot tell
    broken = check_anchor(anchored)
    assert (broken.kind, broken.event_id, broken.previous_id) == (CHANGED, trail[2], trail[1])
    assert broken.expected == anchored.checkpoints[2].hash and broken.found != broken.expected
    assert f"entry {trail[2]} was changed" in broken.describe()


def test_an_edit_that_left_the_hashes_alone_is_caught_too(anchored, trail):
    tamper("UPDATE audit_events SET actor_username = 'someone' WHERE id = :id", id=trail[4])
    broken = check_anchor(anchored)
    assert (broken.kind, broken.event_id) == (CHANGED, trail[4])


def test_a_deleted_entry_is_caught(anchored, trail):
    rewrite_trail(lambda rows: rows[:2] + rows[3:])
    assert verify_chain().ok
    broken = check_anchor(anchored)
    assert (broken.kind, broken.event_id, broken.other_id) == (REMOVED, trail[2], None)
    assert f"entry {trail[2]} was removed" in broken.describe()


def test_a_deleted_entry_with_the_rest_renumbered_is_caught(anchored, trail):
    rewrite_trail(lambda rows: rows[:2] + rows[3:], renumber=True)
    assert verify_chain().ok
    broken = check_anchor(anchored)
    assert (broken.kind, broken.event_id, broken.other_id) == (REMOVED, trail[2], trail[3])
    assert "renumbered" in broken.describe()


def test_an_inserted_entry_with_the_rest_renumbered_is_caught(anchored, trail):
    rewrite_trail(lambda rows: [*rows[:2], _forged(rows[2]), *rows[2:]], renumber=True)
    assert verify_chain().ok
    broken = check_anchor(anchored)
    assert (broken.kind, broken.event_id, broken.other_id) == (MOVED, trail[2], trail[2] + 1)
    assert broken.describe().startswith(f"an entry was inserted after entry {trail[1]}")


def test_an_entry_inserted_into_a_gap_in_the_numbers_is_caught(trail):
    """PostgreSQL leaves gaps in the ids (a rolled-back entry keeps its number); a forger
    can fill one without renumbering anything."""
    rewrite_trail(lambda rows: rows[:2] + rows[3:])  # the gap, before anchoring
    anchor = take_anchor()
    rewrite_trail(lambda rows: [*rows[:2], _forged(rows[1], id=trail[2]), *rows[2:]])
    assert verify_chain().ok
    broken = check_anchor(anchor)
    assert (broken.kind, broken.event_id, broken.other_id) == (INSERTED, trail[3], trail[2])
    assert f"entry {trail[2]} was inserted" in broken.describe()


def test_removing_the_anchored_head_is_caught(anchored, trail):
    rewrite_trail(lambda rows: rows[:-1])
    broken = check_anchor(anchored)
    assert (broken.kind, broken.event_id) == (REMOVED, trail[-1])


def test_a_long_trail_narrows_the_change_to_between_two_checkpoints(subject, monkeypatch):
    monkeypatch.setattr(anchors, "CHECKPOINTS", 4)
    for n in range(15):
        record_event(f"test.long{n}", subject, after={"n": n})
    db.session.commit()
    every = ids()
    anchor = take_anchor()
    points = [c.id for c in anchor.checkpoints]
    assert not anchor.complete and len(points) <= 4
    assert points[0] == every[0] and points[-1] == every[-1]
    assert check_anchor(anchor) is None
    target = next(i for i in every if points[1] < i < points[2])

    def edit(rows):
        next(r for r in rows if r["id"] == target)["after"] = {"n": -1}
        return rows

    rewrite_trail(edit)
    broken = check_anchor(anchor)
    assert (broken.kind, broken.previous_id, broken.event_id) == (BEFORE, points[1], points[2])
    assert f"after entry {points[1]} and before entry {points[2]}" in broken.describe()


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"id": 1, "hash": "a", "complete": True},
        {"id": 1, "hash": "a", "complete": True, "checkpoints": []},
        {"id": 1, "hash": "a", "complete": "yes", "checkpoints": [[1, None, "a"]]},
        {"id": 2, "hash": "a", "complete": True, "checkpoints": [[1, None, "a"]]},
        {"id": 1, "hash": "a", "complete": True, "checkpoints": [[2, None, "b"], [1, None, "a"]]},
        {"id": 1, "hash": "a", "complete": True, "checkpoints": [[1, 5, "a"]]},
        {"id": "x", "hash": "a", "complete": True, "checkpoints": [["x", None, "a"]]},
    ],
)
def test_what_is_not_an_anchor_is_refused(data):
    with pytest.raises(ValueError):
        Anchor.from_json(data)
