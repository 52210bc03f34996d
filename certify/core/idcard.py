"""Resident identity card numbers (居民身份证号码), GB 11643-1999.

The 18th character is an ISO 7064 MOD 11-2 check over the first 17 digits, which
catches every single-digit typo and most swaps: the commonest way a roster row
goes wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from certify.core import clock

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


class InvalidIdNumber(ValueError):
    """The text is not a valid 18-character resident ID number."""


@dataclass(frozen=True)
class IdNumber:
    value: str

    @property
    def birth_date(self) -> date:
        return date(int(self.value[6:10]), int(self.value[10:12]), int(self.value[12:14]))

    @property
    def sex(self) -> str:
        """'male' or 'female', from the parity of the 17th digit."""
        return "male" if int(self.value[16]) % 2 else "female"

    @property
    def region(self) -> str:
        return self.value[:6]


def normalise_id_number(text: str) -> str:
    """Strip spaces and accept a lower-case x, as people type it."""
    return re.sub(r"\s+", "", text or "").upper()


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def parse_id_number(text: str) -> IdNumber:
    value = normalise_id_number(text)
    if not _SHAPE.match(value):
        raise InvalidIdNumber("shape")
    if check_char(value[:17]) != value[17]:
        raise InvalidIdNumber("check_digit")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber("birth_date") from exc
    if born.year < 1900 or born > clock.local(clock.now()).date():
        raise InvalidIdNumber("birth_date")
    return IdNumber(value)


def is_valid_id_number(text: str) -> bool:
    try:
        parse_id_number(text)
    except InvalidIdNumber:
        return False
    return True


def make_id_number(region: str, born: date, sequence: int) -> str:
    """Build a valid number; used for demo data and test factories."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    if len(first17) != 17:
        raise ValueError("region must be 6 digits and sequence 0..999")
    return first17 + check_char(first17)
