"""Stored bytes in the database: a photo, a seal, later a certificate's PDF.

Each blob is written once and named by its SHA-256, so two nodes share it through the
database alone, a second copy of the same bytes is the same row, and whoever reads it can
check it has not changed since (`read_blob`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from certify.core import clock
from certify.core.db_types import UTCDateTime
from certify.extensions import db


class BlobChanged(RuntimeError):
    """Stored bytes no longer match their hash: the database was changed behind our back."""


class Blob(db.Model):
    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    media_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column()
    data: Mapped[bytes] = mapped_column(sa.LargeBinary())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


def store_blob(data: bytes, media_type: str) -> Blob:
    """The blob holding these bytes: the stored one if they are already there."""
    digest = hashlib.sha256(data).hexdigest()
    found = db.session.scalar(sa.select(Blob).where(Blob.sha256 == digest))
    if found is not None:
        return found
    blob = Blob(sha256=digest, media_type=media_type, size=len(data), data=data)
    db.session.add(blob)
    db.session.flush()
    return blob


def read_blob(blob: Blob) -> bytes:
    """The bytes, checked against the hash they were stored under."""
    if hashlib.sha256(blob.data).hexdigest() != blob.sha256:
        raise BlobChanged(f"blob {blob.id} does not match its SHA-256")
    return blob.data
