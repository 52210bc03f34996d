"""Recording state changes, and reading the trail back. Every service that changes state
calls record_event()."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import has_request_context
from flask_login import current_user

from certify.audit import chain
from certify.audit.models import AuditEvent
from certify.core import clock
from certify.extensions import db

PAGE_SIZE = 50
EXPORT_BATCH = 1000


def _current_actor() -> Any | None:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user
    return None


def record_event(
    action: str,
    subject: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor: Any | None = None,
) -> AuditEvent:
    """Append an audit entry in the caller's transaction, so it commits or rolls back with
    the change. The entry is linked into the hash chain at once (see audit/chain.py), which
    makes concurrent appenders wait for this transaction to end."""
    actor = actor or _current_actor()
    # current_user is a proxy; the trail needs the model behind it.
    subject = getattr(subject, "_get_current_object", lambda: subject)()
    db.session.flush()  # the subject needs its id
    event = AuditEvent(
        occurred_at=clock.now(),
        actor_id=getattr(actor, "id", None),
        actor_username=getattr(actor, "username", "system"),
        action=action,
        subject_type=type(subject).__tablename__,
        subject_id=str(subject.id),
        before=chain.json_ready(before),
        after=chain.json_ready(after),
    )
    return chain.append_event(db.session, event)


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrailFilter:
    """What a reader narrowed the trail to. Dates are days in Wenzhou, both inclusive.

    `action` without a dot means the whole family: "certificate" matches
    "certificate.issued", "certificate.revoked", …
    """

    action: str = ""
    subject_type: str = ""
    subject_id: str = ""
    actor: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def where(self) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        if self.action:
            if "." in self.action:
                clauses.append(AuditEvent.action == self.action)
            else:
                clauses.append(AuditEvent.action.startswith(f"{self.action}.", autoescape=True))
        if self.subject_type:
            clauses.append(AuditEvent.subject_type == self.subject_type)
        if self.subject_id:
            clauses.append(AuditEvent.subject_id == self.subject_id)
        if self.actor:
            clauses.append(AuditEvent.actor_username == self.actor)
        if self.date_from:
            clauses.append(AuditEvent.occurred_at >= _local_midnight(self.date_from))
        if self.date_to:
            clauses.append(AuditEvent.occurred_at < _local_midnight(self.date_to + timedelta(1)))
        return clauses

    def select(self) -> sa.Select:
        return sa.select(AuditEvent).where(*self.where())


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clock.LOCAL_TZ).astimezone(UTC)


@dataclass(frozen=True)
class TrailPage:
    """One screen of the trail, newest first, with cursors for the neighbouring screens."""

    events: list[AuditEvent] = field(default_factory=list)
    newer_than: int | None = None  # pass as `after` to see the newer screen
    older_than: int | None = None  # pass as `before` to see the older screen


def trail_page(
    filters: TrailFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> TrailPage:
    """A screen of entries by id cursor rather than page number.

    OFFSET and COUNT(*) get slower as the trail grows to millions of rows; a cursor on the
    primary key costs the same on the last screen as on the first.
    """
    select = filters.select()
    if after is not None:
        rows = list(
            db.session.scalars(
                select.where(AuditEvent.id > after).order_by(AuditEvent.id).limit(size + 1)
            )
        )
        more_newer = len(rows) > size
        events = list(reversed(rows[:size]))
        more_older = bool(events) and _exists(filters, AuditEvent.id < events[-1].id)
    else:
        if before is not None:
            select = select.where(AuditEvent.id < before)
        rows = list(db.session.scalars(select.order_by(AuditEvent.id.desc()).limit(size + 1)))
        more_older = len(rows) > size
        events = rows[:size]
        more_newer = bool(events) and _exists(filters, AuditEvent.id > events[0].id)
    return TrailPage(
        events=events,
        newer_than=events[0].id if events and more_newer else None,
        older_than=events[-1].id if events and more_older else None,
    )


def _exists(filters: TrailFilter, clause: sa.ColumnElement[bool]) -> bool:
    probe = sa.select(AuditEvent.id).where(*filters.where(), clause).limit(1)
    return db.session.scalar(probe) is not None


def iter_events(filters: TrailFilter) -> Iterator[AuditEvent]:
    """Every matching entry in chain order, fetched in batches (for exports)."""
    select = filters.select().order_by(AuditEvent.id).execution_options(yield_per=EXPORT_BATCH)
    yield from db.session.scalars(select)


def events_after(
    filters: TrailFilter, after_id: int, *, upto_id: int, limit: int = EXPORT_BATCH
) -> list[AuditEvent]:
    """The next batch in chain order, for readers that cannot keep one cursor open."""
    select = filters.select().where(AuditEvent.id > after_id, AuditEvent.id <= upto_id)
    return list(db.session.scalars(select.order_by(AuditEvent.id).limit(limit)))


def last_event_id() -> int | None:
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))


def count_events(filters: TrailFilter) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(*filters.where())
    )


def subject_types() -> list[str]:
    """Every table an entry may be about: known from the models, no scan of the trail."""
    names = {mapper.class_.__tablename__ for mapper in db.Model.registry.mappers}
    return sorted(names - {AuditEvent.__tablename__})
