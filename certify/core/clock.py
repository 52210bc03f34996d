"""The one source of the current time.

Deadlines, lockouts and publicity periods are decided on the server, so every
module asks this clock instead of calling datetime.now(); tests freeze it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware datetime")
    global _frozen
    _frozen = moment.astimezone(UTC)


def advance(**delta: float) -> datetime:
    """Move a frozen clock forward, e.g. advance(seconds=1)."""
    if _frozen is None:
        raise RuntimeError("advance() needs a frozen clock")
    freeze(_frozen + timedelta(**delta))
    return now()


def unfreeze() -> None:
    global _frozen
    _frozen = None


def local(moment: datetime) -> datetime:
    """The moment as people in Wenzhou read it."""
    return moment.astimezone(LOCAL_TZ)


@contextmanager
def travel(moment: datetime) -> Iterator[None]:
    """Run a block as if at `moment` (e.g. demo data of a past class); restores the clock after."""
    global _frozen
    before = _frozen
    freeze(moment)
    try:
        yield
    finally:
        _frozen = before
