"""What each kind of notification says.

A notification stores its kind and the values, never the finished sentence: the sentence is
rendered when someone reads it, in the language they read in (and in Chinese, then English,
for email). Adding a kind here is all it takes to send a new sort of notification.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l

from certify.core import clock

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"%\((\w+)\)")


@dataclass(frozen=True)
class MessageKind:
    """A kind of notification: a short title (the email subject) and the sentence."""

    title: LazyString
    text: LazyString

    @property
    def msgid(self) -> str:
        """The English source sentence, whatever locale is active."""
        with force_locale("en"):
            return str(self.text)

    @property
    def param_names(self) -> frozenset[str]:
        return frozenset(_PLACEHOLDER.findall(self.msgid))


KINDS: dict[str, MessageKind] = {
    # To the HR bureau reviewers, when the assessment office sends a batch.
    "batch_submitted": MessageKind(
        _l("Batch submitted for endorsement"),
        _l(
            "Batch %(reference)s with %(count)d certificates was submitted for endorsement; "
            "review by %(due)s."
        ),
    ),
    # To the assessment office, when the bureau has decided every certificate of a batch.
    "batch_decided": MessageKind(
        _l("Batch decided"),
        _l("Batch %(reference)s was decided: %(endorsed)d endorsed, %(rejected)d rejected."),
    ),
    # To the worker who holds the certificate.
    "certificate_endorsed": MessageKind(
        _l("Certificate endorsed"),
        _l("Your certificate %(number)s (%(trade)s) has been endorsed by %(body)s."),
    ),
    # To the assessment office, one per rejected certificate.
    "certificate_rejected": MessageKind(
        _l("Certificate rejected"),
        _l("Certificate %(number)s was rejected: %(reason)s"),
    ),
}

FALLBACK_TITLE = _l("Notification")
FALLBACK_TEXT = _l("You have a notification.")


def kind_of(name: str) -> MessageKind:
    """The registered kind; ValueError for a name nobody registered (a programming error)."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown notification kind {name!r}") from None


def storable(value: Any) -> Any:
    """A JSON-safe form of a parameter: times as Wenzhou local time, enums as their value."""
    if isinstance(value, datetime):
        return clock.local(value).strftime("%Y-%m-%d %H:%M") if value.tzinfo else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def check_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The params made storable, refused with ValueError if the sentence cannot be built."""
    kind = kind_of(name)
    values = {key: storable(value) for key, value in params.items()}
    missing = kind.param_names - values.keys()
    if missing:
        raise ValueError(f"{name} needs {', '.join(sorted(missing))}")
    try:
        kind.msgid % values
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: {exc}") from None
    return values


def render_title(name: str) -> str:
    """The title in the active locale."""
    kind = KINDS.get(name)
    return str(kind.title if kind else FALLBACK_TITLE)


def render_text(name: str, params: dict[str, Any] | None) -> str:
    """The sentence in the active locale. A row that no longer fits its kind (a kind removed,
    a translation with a broken placeholder) reads as a plain notice instead of failing the
    page."""
    kind = KINDS.get(name)
    if kind is None:
        return str(FALLBACK_TEXT)
    values = params or {}
    try:
        return str(kind.text) % values
    except (KeyError, TypeError, ValueError):
        log.warning("notification %s: translation does not fit %r", name, values)
    try:
        return kind.msgid % values
    except (KeyError, TypeError, ValueError):
        return str(FALLBACK_TEXT)


def render_in(locale: str, name: str, params: dict[str, Any] | None) -> tuple[str, str]:
    """(title, sentence) in the given locale, e.g. for an email."""
    with force_locale(locale):
        return render_title(name), render_text(name, params)
