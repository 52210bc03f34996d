"""Login slips (登录凭条): one A5 page per worker with the first password, to hand out in class.

The ID number is the login, but a slip never shows it in full: it may be left on a
desk or photographed. The worker knows their own number; the masked form is only
there so they can check the slip is theirs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import render_template

from certify.core.masking import mask_id_number
from certify.core.pdf import qr_data_uri, render_pdf

# 18-character resident ID numbers, and the old 15-digit ones.
_FULL_ID = re.compile(r"^(\d{17}[\dXx]|\d{15})$")


@dataclass
class SlipData:
    name: str
    login: str
    masked_id: str
    password: str | None  # None once the worker has chosen their own
    cohort: str
    trade: str
    exam_time: str | None  # already formatted for people, e.g. "2026-12-05 09:00"
    login_url: str

    @property
    def shown_login(self) -> str:
        """What the slip prints as the login: the masked ID, never a full ID number."""
        for value in (self.masked_id, self.login):
            value = (value or "").strip()
            if value:
                return mask_id_number(value) if _FULL_ID.match(value) else value
        return ""

    @property
    def logs_in_with_id(self) -> bool:
        return bool((self.masked_id or "").strip())


def render_login_slips(slips: list[SlipData], title: str) -> bytes:
    """A PDF with one login slip per page, in the order given."""
    qr_codes: dict[str, str] = {}
    for slip in slips:
        if slip.login_url not in qr_codes:
            qr_codes[slip.login_url] = qr_data_uri(slip.login_url)
    html = render_template("cohorts/login_slips.html", slips=slips, title=title, qr_codes=qr_codes)
    return render_pdf(html)
