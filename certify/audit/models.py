from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from certify.core import clock
from certify.core.db_types import UTCDateTime
from certify.extensions import db


class AuditEvent(db.Model):
    """One state change. Rows are only ever added, never updated or deleted.

    Each row carries the hash of the row before it and its own hash over its content and
    that link (`audit/chain.py`), so editing or deleting a past row breaks the chain where it
    happened, and `flask audit verify` says where.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)
    # The username is copied so the trail still reads after an account is renamed.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_username: Mapped[str] = mapped_column(sa.String(64), default="system")
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    subject_type: Mapped[str] = mapped_column(sa.String(32))
    subject_id: Mapped[str] = mapped_column(sa.String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_events_subject", "subject_type", "subject_id"),)


# The one UPDATE the application may run on the trail: chain.append_event() filling in the
# hashes of the row it has just inserted (WHERE hash IS NULL), marked with this option.
SEAL_OPTION = "audit_seal"


class AppendOnlyViolation(RuntimeError):
    """Code tried to change or delete an audit entry: a bug, never a user's mistake."""


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper, _connection, target: AuditEvent) -> None:
    """Changing a loaded entry and flushing it would rewrite history; refuse before SQL runs."""
    state = sa.inspect(target)
    changed = [attr.key for attr in state.attrs if attr.history.has_changes()]
    if changed:
        raise AppendOnlyViolation(
            f"audit entry {target.id} is append-only; refused to change {', '.join(changed)}"
        )


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper, _connection, target: AuditEvent) -> None:
    raise AppendOnlyViolation(f"audit entry {target.id} is append-only; refused to delete it")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """UPDATE/DELETE statements run through a session skip the mapper events above."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) != AuditEvent.__tablename__:
        return
    if state.is_update and state.execution_options.get(SEAL_OPTION):
        return
    verb = "update" if state.is_update else "delete"
    raise AppendOnlyViolation(f"the audit trail is append-only; refused to {verb} entries")
