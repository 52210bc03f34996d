"""The hash chain over the audit trail: how an entry is hashed, appended and checked.

Every entry stores `prev_hash` (the hash of the entry before it, GENESIS for the first) and
`hash` = sha256 over its canonical content *and* that link. Editing any stored field of a past
entry changes what its hash should be; deleting, inserting or reordering entries breaks the
link of the entry that follows. `verify_chain()` walks the trail in id order and reports the
first place where either check fails.

The id is part of the hashed content. Entries are chained in id order, and people cite them by
id ("see audit entry 1234"), so renumbering an entry must be detected as well. The price is
that the hash can only be computed once the id is assigned. On PostgreSQL one database
function takes the lock, numbers, hashes and inserts the entry in a single call (migration
5b1e2c7d9a30); on SQLite `append_event()` adds the row unsealed (prev_hash and hash NULL), then
fills both with one guarded UPDATE in the same transaction. Nobody else ever sees the unsealed
row, because it commits or rolls back with the UPDATE.

What the chain cannot show on its own: removing the newest entries (a truncated tail) leaves
a shorter chain that is intact. Operators record the last hash printed by
`flask audit verify` somewhere outside the database and later pass it back with
`--expect-last HASH`: the check fails if no entry carries that hash any more. Nor, the hash
being unkeyed, an entry edited by someone who then recomputed every later hash: that takes a
head held by someone else, the anchor in each endorsement package (audit/anchor.py).

The migration that added the columns (ca369bca6561) computes the same hashes for the entries
written before; it carries its own copy of `canonical_json()` and `event_hash()` because
migrations must not import application code. Keep the two in step (tests/audit proves they
agree).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from certify.audit.models import SEAL_OPTION, AuditEvent
from certify.extensions import db

GENESIS = "0" * 64
# Any constant works; every process appending to the trail must use the same one.
# ASCII "certify" + 0x01, well inside PostgreSQL's bigint.
ADVISORY_LOCK_KEY = 0x6365727469667901
VERIFY_BATCH = 2000

CHAIN_COLUMNS = (
    AuditEvent.id,
    AuditEvent.occurred_at,
    AuditEvent.actor_id,
    AuditEvent.actor_username,
    AuditEvent.action,
    AuditEvent.subject_type,
    AuditEvent.subject_id,
    AuditEvent.before,
    AuditEvent.after,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


# --- hashing ----------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """One spelling for one value: sorted keys, no spaces, characters as themselves."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def json_ready(value: Any) -> Any:
    """The value as it reads back from a JSON column (tuples become lists, keys strings).

    The hash is computed before the row is read back, so it must be computed over exactly
    what the database will return, not over the Python objects the caller passed.
    """
    if value is None:
        return None
    return json.loads(json.dumps(value))


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds; naive values are UTC (SQLite hands them back so)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hashed_text(fields: Mapping[str, Any], prev_hash: str) -> str:
    """What an entry's hash is taken over: its content and the hash before it, canonically."""
    payload = {
        "id": fields["id"],
        "occurred_at": iso_utc(fields["occurred_at"]),
        "actor_id": fields["actor_id"],
        "actor_username": fields["actor_username"],
        "action": fields["action"],
        "subject_type": fields["subject_type"],
        "subject_id": fields["subject_id"],
        "before": fields["before"],
        "after": fields["after"],
        "prev_hash": prev_hash,
    }
    return canonical_json(payload)


def event_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """sha256 hex over an entry's content and the hash of the entry before it."""
    data = hashed_text(fields, prev_hash).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def fields_of(event: AuditEvent) -> dict[str, Any]:
    return {column.key: getattr(event, column.key) for column in CHAIN_COLUMNS}


# --- appending --------------------------------------------------------------------------


def lock_chain(session: Session) -> None:
    """Make this transaction the only one appending until it commits or rolls back.

    Two transactions that both read "the last hash" before either commits would link their
    entries to the same predecessor: a fork. So the read of the last hash must happen while
    the transaction holds a lock that every appender takes, and keep it until commit.

    PostgreSQL: a transaction-level advisory lock, taken *before* the INSERT, so that ids
    (from the sequence, with its default CACHE 1) are also handed out in chain order. It is
    released by COMMIT or ROLLBACK. Under READ COMMITTED (the default) the statements after
    the lock see every entry committed before it was granted. Taken again for each entry of
    a transaction (it stacks, and a ROLLBACK TO SAVEPOINT may have released the earlier one).
    The cost: appenders wait for each other's commit, so keep audited transactions short.

    SQLite: writers are serialised by the database lock, which a transaction holds from its
    first write to its end. pysqlite only opens a transaction at the first INSERT/UPDATE/
    DELETE, so a SELECT before it would read outside the lock. `append_event()` therefore
    INSERTs the row first and reads the last hash afterwards: by then this transaction holds
    the write lock and nobody can commit an entry in between. Nothing to do here.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})"))


# certify_audit_append() is made by migration 5b1e2c7d9a30.
_PG_APPEND = sa.text(
    "SELECT new_id, new_prev_hash, new_hash FROM certify_audit_append("
    ":lock, :genesis, :template, :id_token, :prev_token, :occurred_at, :actor_id, "
    ":actor_username, :action, :subject_type, :subject_id, "
    "CAST(:before AS json), CAST(:after AS json))"
).bindparams(sa.bindparam("occurred_at", type_=sa.DateTime(timezone=True)))


def append_event(session: Session, event: AuditEvent) -> AuditEvent:
    """Add `event` to the trail, linked to the newest entry and sealed with its hash."""
    if session.get_bind().dialect.name == "postgresql":
        return _append_in_postgresql(session, event)
    lock_chain(session)
    event.prev_hash = None
    event.hash = None
    session.add(event)
    session.flush()  # the id; on SQLite also the write lock (see lock_chain)
    previous = session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash)
        .where(AuditEvent.id < event.id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    # An unsealed predecessor (a trail never backfilled) is reported by verify_chain().
    prev_hash = (previous.hash if previous else None) or GENESIS
    digest = event_hash(fields_of(event), prev_hash)
    table = AuditEvent.__table__
    session.execute(
        sa.update(table)
        .where(table.c.id == event.id, table.c.hash.is_(None))
        .values(prev_hash=prev_hash, hash=digest)
        .execution_options(**{SEAL_OPTION: True})
    )
    set_committed_value(event, "prev_hash", prev_hash)
    set_committed_value(event, "hash", digest)
    return event


def _append_in_postgresql(session: Session, event: AuditEvent) -> AuditEvent:
    """The same entry in one call, so the trail's lock is held one round trip and the commit.

    The lock is held until the appending transaction commits, and every audited change
    (each exam start among them) waits for it: with four round trips under it, 2,000 starts
    within a minute queued for seconds behind each other (bench/exam_load.py). The database
    numbers the entry after taking the lock, so the hash is computed there, over the text
    this function prepares with stand-ins for the id and the previous hash: the same text
    hashed_text() gives once both are known, so verify_chain() checks it as before.
    """
    session.flush()  # the caller's own changes first, as before the lock
    id_token = "id-" + secrets.token_hex(16)
    prev_token = "prev-" + secrets.token_hex(16)
    fields = fields_of(event) | {"id": id_token}
    row = session.execute(
        _PG_APPEND,
        {
            "lock": ADVISORY_LOCK_KEY,
            "genesis": GENESIS,
            "template": hashed_text(fields, prev_token),
            "id_token": id_token,
            "prev_token": prev_token,
            "occurred_at": event.occurred_at,
            "actor_id": event.actor_id,
            "actor_username": event.actor_username,
            "action": event.action,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "before": None if event.before is None else canonical_json(event.before),
            "after": None if event.after is None else canonical_json(event.after),
        },
    ).one()
    event.id, event.prev_hash, event.hash = row
    return event  # written by the database, not the session: read it back to change it


# --- checking ---------------------------------------------------------------------------

ALTERED = "altered"
BROKEN_LINK = "broken_link"
UNSEALED = "unsealed"
ANCHOR_MISSING = "anchor_missing"


@dataclass(frozen=True)
class ChainBreak:
    """The first place where the trail is not what was written."""

    kind: str  # ALTERED, BROKEN_LINK, UNSEALED or ANCHOR_MISSING
    event_id: int | None
    previous_id: int | None
    expected: str | None
    found: str | None

    def describe(self) -> str:
        if self.kind == ALTERED:
            return (
                f"entry {self.event_id} was altered: its content hashes to {self.expected}, "
                f"but it stores {self.found}"
            )
        if self.kind == BROKEN_LINK:
            after = f"entry {self.previous_id}" if self.previous_id else "the start of the trail"
            return (
                f"entry {self.event_id} does not follow {after}: it links to {self.found}, "
                f"expected {self.expected} (entries between them were deleted or inserted, "
                f"or the entries were reordered)"
            )
        if self.kind == UNSEALED:
            return f"entry {self.event_id} has no hash (written outside the chain)"
        return (
            f"no entry carries the expected last hash {self.expected}: the newest entries "
            f"were removed (a truncated trail) or that entry was altered"
        )


@dataclass(frozen=True)
class ChainReport:
    entries: int  # entries checked and found sound
    last_id: int | None
    last_hash: str
    broken: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None

    def describe(self) -> str:
        if self.broken is None:
            return f"OK: {self.entries} entries, chain intact, last hash {self.last_hash}"
        return (
            f"BROKEN: {self.broken.describe()}. "
            f"{self.entries} entries before it are intact (last hash {self.last_hash})."
        )


def _rows(session: Session) -> Iterator[sa.Row]:
    """All entries in id order, fetched in batches (a server-side cursor on PostgreSQL)."""
    select = sa.select(*CHAIN_COLUMNS).order_by(AuditEvent.id)
    result = session.execute(select.execution_options(yield_per=VERIFY_BATCH))
    yield from result


def verify_chain(*, expect_last: str | None = None, session: Session | None = None) -> ChainReport:
    """Walk the whole trail and report the first break, or that it is intact.

    `expect_last` is a hash recorded earlier (from a previous run): it must still be in the
    chain, which is the only way to notice that the newest entries were deleted.
    """
    session = session or db.session
    expected_prev, last_id, checked = GENESIS, None, 0
    anchor = (expect_last or "").strip().lower() or None
    anchor_seen = anchor is None or anchor == GENESIS

    def report(broken: ChainBreak | None = None) -> ChainReport:
        return ChainReport(checked, last_id, expected_prev, broken)

    for row in _rows(session):
        fields = row._asdict()
        if row.hash is None:
            return report(ChainBreak(UNSEALED, row.id, last_id, None, None))
        recomputed = event_hash(fields, row.prev_hash or "")
        if recomputed != row.hash:
            return report(ChainBreak(ALTERED, row.id, last_id, recomputed, row.hash))
        if row.prev_hash != expected_prev:
            return report(ChainBreak(BROKEN_LINK, row.id, last_id, expected_prev, row.prev_hash))
        expected_prev, last_id, checked = row.hash, row.id, checked + 1
        anchor_seen = anchor_seen or row.hash == anchor
    if not anchor_seen:
        return report(ChainBreak(ANCHOR_MISSING, None, last_id, anchor, expected_prev))
    return report()
