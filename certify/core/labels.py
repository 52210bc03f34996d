"""Enums whose members carry their own translated label.

Statuses, kinds and reasons are shown on pages in the user's language. Each member is
written with its label (``DRAFT = "draft", _l("Draft")``) instead of an enum and a separate
dictionary of labels kept in step by hand.
"""

from __future__ import annotations

import enum
from typing import Any


class LabelledEnum(enum.StrEnum):
    _label: Any

    def __new__(cls, value: str, label: Any):
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label
        return member

    @property
    def label(self) -> str:
        return str(self._label)

    @classmethod
    def labels(cls) -> dict[Any, Any]:
        """{member: its (lazy) label}, in definition order: a form's choices."""
        return {member: member._label for member in cls}
