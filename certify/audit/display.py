"""Reading an entry at a glance: which fields changed, from what to what.

The trail stores whole snapshots; a reader scanning fifty rows wants the difference, short.
The full snapshots stay one click away on the page and complete in the exports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

MAX_VALUE = 80
ABSENT = object()

# What the trail is about, in words; unknown tables show their own name.
SUBJECT_LABELS = {
    "users": _l("Account"),
    "trades": _l("Trade"),
    "knowledge_areas": _l("Knowledge area"),
    "questions": _l("Question"),
    "bank_imports": _l("Bank import"),
    "exam_blueprints": _l("Exam blueprint"),
    "eligibility_rules": _l("Eligibility rule"),
    "cohorts": _l("Training class"),
    "materials": _l("Training material"),
    "exam_sessions": _l("Exam session"),
    "attempts": _l("Exam attempt"),
    "practical_scores": _l("Practical score"),
    "results": _l("Result"),
    "certificates": _l("Certificate"),
    "endorsement_batches": _l("Endorsement batch"),
}


@dataclass(frozen=True)
class Change:
    key: str
    before: str | None  # None: the field was not there
    after: str | None


def subject_label(subject_type: str) -> str:
    return str(SUBJECT_LABELS.get(subject_type, subject_type))


def short_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def describe_changes(before: Any, after: Any) -> list[Change]:
    """The fields that differ between two snapshots (all of them when one side is empty)."""
    if before is None and after is None:
        return []
    if not isinstance(before, dict | None) or not isinstance(after, dict | None):
        return [Change("", _short_or_none(before), _short_or_none(after))]
    old, new = before or {}, after or {}
    keys = list(new) + [key for key in old if key not in new]
    changes = []
    for key in keys:
        was, now = old.get(key, ABSENT), new.get(key, ABSENT)
        if was == now:
            continue
        changes.append(
            Change(
                key,
                None if was is ABSENT else short_value(was),
                None if now is ABSENT else short_value(now),
            )
        )
    return changes


def _short_or_none(value: Any) -> str | None:
    return None if value is None else short_value(value)


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
