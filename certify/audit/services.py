"""Recording state changes. Every service that changes state calls record_event()."""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_login import current_user

from certify.audit.models import AuditEvent
from certify.core import clock
from certify.extensions import db


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
    """Add an audit row in the caller's transaction, so it commits or rolls back with the change."""
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
        before=before,
        after=after,
    )
    db.session.add(event)
    return event
