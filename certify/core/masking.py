"""Masking of personal data for every place that does not need it in full.

PIPL Art. 25 forbids publishing personal information without separate consent,
so public pages and 公示 lists show only enough to tell two people apart.
"""

from __future__ import annotations

MASK = "*"


def mask_name(name: str) -> str:
    """张三 → 张*, 王小明 → 王*明, 欧阳娜娜 → 欧**娜."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + MASK
    return name[0] + MASK * (len(name) - 2) + name[-1]


def mask_id_number(id_number: str) -> str:
    """Keep the first 6 and last 4 characters: 330302********1234."""
    value = (id_number or "").strip()
    if len(value) <= 10:
        return MASK * len(value)
    return value[:6] + MASK * (len(value) - 10) + value[-4:]


def mask_phone(phone: str) -> str:
    """138****5678."""
    value = (phone or "").strip()
    if len(value) < 7:
        return MASK * len(value)
    return value[:3] + MASK * (len(value) - 7) + value[-4:]
