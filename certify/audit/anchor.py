"""Anchoring the trail outside the database, so a rewrite with recomputed hashes shows.

The chain (audit/chain.py) is unkeyed SHA-256: whoever can write the database can edit an
entry and recompute every hash after it, and the chain alone still looks intact. What they
cannot change is a copy of the chain's head held by someone else. Every endorsement package
carries one in its signed manifest (`audit_head`): the newest entry's id and hash when the
office submitted the batch. The bureau keeps the package, and its reviewers' signed decisions
repeat the head. `flask --app wsgi audit verify --against PACKAGE.zip` recomputes the trail up
to that entry: any entry up to it changed, removed or inserted gives a different head hash,
however carefully the later hashes were recomputed.

The head alone says *that* something changed, not *where*. So the anchor also carries up to
CHECKPOINTS entries spread from the first entry to the head (each with the hash before it),
all of them when the trail is that short: the first checkpoint that no longer matches narrows
the change to the entries since the one before it, and because a checkpoint keeps the hash
before it, an entry whose own content is intact can be told from one that was edited, and an
entry that moved to another id (entries inserted or removed, the rest renumbered) is found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from certify.audit.chain import CHAIN_COLUMNS, event_hash
from certify.audit.models import AuditEvent
from certify.extensions import db

CHECKPOINTS = 64
RENUMBER_WINDOW = 64  # how far from its id an anchored entry is looked for


@dataclass(frozen=True)
class Checkpoint:
    """One anchored entry: its id, the hash it linked to, and its own hash."""

    id: int
    prev_hash: str | None
    hash: str | None


@dataclass(frozen=True)
class Anchor:
    """The trail's head at one moment, with checkpoints in id order ending at the head."""

    checkpoints: tuple[Checkpoint, ...]
    complete: bool  # every entry up to the head is a checkpoint

    @property
    def head(self) -> Checkpoint:
        return self.checkpoints[-1]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.head.id,
            "hash": self.head.hash,
            "complete": self.complete,
            "checkpoints": [[c.id, c.prev_hash, c.hash] for c in self.checkpoints],
        }

    @classmethod
    def from_json(cls, data: Any) -> Anchor:
        """Read an anchor back from a manifest; ValueError when it is not one."""
        try:
            points = tuple(
                Checkpoint(int(i), _hash_or_none(prev), _hash_or_none(own))
                for i, prev, own in data["checkpoints"]
            )
            complete = data["complete"]
            head_id, head_hash = int(data["id"]), data["hash"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError("not an audit anchor") from exc
        if not points or not isinstance(complete, bool):
            raise ValueError("not an audit anchor")
        if [c.id for c in points] != sorted({c.id for c in points}):
            raise ValueError("the anchor's checkpoints are not in id order")
        if (points[-1].id, points[-1].hash) != (head_id, head_hash):
            raise ValueError("the anchor's head is not its last checkpoint")
        return cls(points, complete)


def _hash_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError("not a hash")


def take_anchor(session: Session | None = None) -> Anchor | None:
    """The trail's head now (None for an empty trail), as this transaction sees it.

    Called while the transaction appends to the trail, it holds the trail's lock (see
    chain.lock_chain), so the head is the entry it wrote last. Two queries whatever the
    length of the trail: the first CHECKPOINTS + 1 entries, then (for a longer trail) the
    entries nearest below evenly spaced ids.
    """
    session = session or db.session
    columns = (AuditEvent.id, AuditEvent.prev_hash, AuditEvent.hash)
    head = session.execute(sa.select(*columns).order_by(AuditEvent.id.desc()).limit(1)).first()
    if head is None:
        return None
    first = session.execute(
        sa.select(*columns)
        .where(AuditEvent.id <= head.id)
        .order_by(AuditEvent.id)
        .limit(CHECKPOINTS + 1)
    ).all()
    if len(first) <= CHECKPOINTS:
        return Anchor(tuple(Checkpoint(*row) for row in first), complete=True)
    low, high = first[0].id, head.id
    targets = [low + (high - low) * n // (CHECKPOINTS - 1) for n in range(CHECKPOINTS - 1)]
    nearest = [
        sa.select(sa.func.max(AuditEvent.id)).where(AuditEvent.id <= t).scalar_subquery()
        for t in targets
    ]
    ids = {i for i in session.execute(sa.select(*nearest)).one() if i is not None} | {high}
    rows = session.execute(
        sa.select(*columns).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id)
    ).all()
    return Anchor(tuple(Checkpoint(*row) for row in rows), complete=False)


# --- checking ---------------------------------------------------------------------------

CHANGED = "changed"
REMOVED = "removed"
INSERTED = "inserted"
MOVED = "moved"
BEFORE = "before"


@dataclass(frozen=True)
class AnchorBreak:
    """The first anchored entry the trail no longer matches, and what became of it."""

    kind: str  # CHANGED, REMOVED, INSERTED, MOVED or BEFORE
    event_id: int  # the anchored entry
    previous_id: int | None  # the checkpoint before it, which still matches
    expected: str | None  # its hash in the anchor
    found: str | None = None  # CHANGED: what its content hashes to now
    # INSERTED: the added entry; MOVED: the id the anchored entry has now; REMOVED: the later
    # anchored entry that now has this id (the entries after it were renumbered).
    other_id: int | None = None

    def describe(self) -> str:
        since = f"entry {self.previous_id}" if self.previous_id else "the start of the trail"
        if self.kind == CHANGED:
            return (
                f"entry {self.event_id} was changed: the anchor holds hash {self.expected} for "
                f"it, its content now hashes to {self.found}"
            )
        if self.kind == REMOVED and self.other_id is not None:
            return (
                f"entry {self.event_id} was removed and the entries after it renumbered: the "
                f"anchored entry {self.other_id} is now numbered {self.event_id}"
            )
        if self.kind == REMOVED:
            return (
                f"entry {self.event_id} was removed: the anchor holds it with hash "
                f"{self.expected}, the trail has no entry {self.event_id}"
            )
        if self.kind == INSERTED:
            return (
                f"entry {self.other_id} was inserted after {since} and before entry "
                f"{self.event_id}: the anchored trail has no entry {self.other_id}"
            )
        if self.kind == MOVED:
            other = self.other_id or 0
            shift = abs(other - self.event_id)
            count = "an entry was" if shift == 1 else f"{shift} entries were"
            what = "inserted" if other > self.event_id else "removed"
            return (
                f"{count} {what} after {since}: the anchored entry {self.event_id} is now "
                f"numbered {other}, and the entries after it were renumbered"
            )
        return (
            f"entry {self.event_id} is intact, but what links to it is not: an entry after "
            f"{since} and before entry {self.event_id} was changed, removed or inserted"
        )


def _is(row: Mapping[str, Any], point: Checkpoint) -> bool:
    """True when `row` holds the anchored entry's content, whatever id it has now."""
    return event_hash({**row, "id": point.id}, point.prev_hash or "") == point.hash


def _rows(session: Session, clause: sa.ColumnElement[bool]) -> dict[int, dict[str, Any]]:
    select = sa.select(*CHAIN_COLUMNS).where(clause).order_by(AuditEvent.id)
    return {row.id: row._asdict() for row in session.execute(select)}


def check_anchor(anchor: Anchor, session: Session | None = None) -> AnchorBreak | None:
    """Where the trail up to the anchored head differs from the anchor; None when it agrees.

    Each checkpoint's content is recomputed, not read from its stored hash, so an edit that
    left the stored hashes alone shows as well as one that recomputed them (the hashes after
    it are the chain check's business). Entries after the head are not the anchor's concern.
    """
    session = session or db.session
    points = anchor.checkpoints
    present = _rows(session, AuditEvent.id.in_([c.id for c in points]))
    previous_id: int | None = None
    for index, point in enumerate(points):
        row = present.get(point.id)
        if row is not None and _is(row, point):
            if row["prev_hash"] == point.prev_hash:
                previous_id = point.id
                continue
            return _before(session, anchor, point, previous_id)
        nearby = _rows(
            session,
            AuditEvent.id.between(point.id - RENUMBER_WINDOW, point.id + RENUMBER_WINDOW),
        )
        moved = next((i for i, r in nearby.items() if i != point.id and _is(r, point)), None)
        if moved is not None:
            return AnchorBreak(MOVED, point.id, previous_id, point.hash, other_id=moved)
        if row is None:
            return AnchorBreak(REMOVED, point.id, previous_id, point.hash)
        later = next((c for c in points[index + 1 :] if _is(row, c)), None)
        if later is not None:
            return AnchorBreak(REMOVED, point.id, previous_id, point.hash, other_id=later.id)
        found = event_hash(row, row["prev_hash"] or "")
        return AnchorBreak(CHANGED, point.id, previous_id, point.hash, found=found)
    return None


def _before(
    session: Session, anchor: Anchor, point: Checkpoint, previous_id: int | None
) -> AnchorBreak:
    """The checkpoint is intact but links elsewhere: the change lies before it. When every
    entry is anchored, an entry between two anchored neighbours can only have been added."""
    if anchor.complete:
        query = sa.select(sa.func.min(AuditEvent.id)).where(AuditEvent.id < point.id)
        if previous_id is not None:
            query = query.where(AuditEvent.id > previous_id)
        extra = session.scalar(query)
        if extra is not None:
            return AnchorBreak(INSERTED, point.id, previous_id, point.hash, other_id=extra)
    return AnchorBreak(BEFORE, point.id, previous_id, point.hash)
