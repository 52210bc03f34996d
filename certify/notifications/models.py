"""In-app notifications: what happened that this person should know about."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from certify.core import clock
from certify.core.db_types import UTCDateTime
from certify.extensions import db


class Notification(db.Model):
    """One message for one user. The text is kept as a message id and its values, so it reads
    in the language the user has chosen when they open it, not the sender's."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    link: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def mark_read(self, at: datetime) -> None:
        """The first reading counts; opening it again does not move the time."""
        if self.read_at is None:
            self.read_at = at
