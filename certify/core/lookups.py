"""Fetching one row by id for a service: the row, or NotFound with the domain's own words."""

from __future__ import annotations

from typing import Any, TypeVar

from certify.core.errors import NotFound
from certify.extensions import db

M = TypeVar("M")


def get_or_not_found(model: type[M], row_id: int, message: Any, code: str) -> M:
    """Like Flask-SQLAlchemy's get_or_404, but a DomainError: pages and the API answer 404
    with `message` and the stable `code`, the CLI prints `message`."""
    row = db.session.get(model, row_id)
    if row is None:
        raise NotFound(message, code=code)
    return row
