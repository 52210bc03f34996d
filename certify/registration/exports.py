"""资格审核通过人员名册: who passed the qualification review, as the bureau's forms list them."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from certify.core import clock
from certify.core.spreadsheets import append_row
from certify.registration.models import Announcement, ApplicationStatus
from certify.registration.services import applications_of

COLUMNS = (
    "序号",
    "姓名",
    "证件类型",
    "证件号码",
    "性别",
    "民族",
    "文化程度",
    "手机号码",
    "通讯地址",
    "考生来源",
    "工作单位",
    "本职业工作年限",
    "申报条件",
    "审核日期",
    "编入班级",
)


def approved_roster_xlsx(announcement: Announcement) -> bytes:
    """One row per approved applicant, in the order they applied; every cell text-safe."""
    book = Workbook()
    sheet = book.active
    sheet.title = "资格审核通过人员名册"
    append_row(sheet, [announcement.title], Font(bold=True, size=14))
    append_row(sheet, COLUMNS, Font(bold=True))
    approved = applications_of(announcement, ApplicationStatus.APPROVED)
    for number, a in enumerate(approved, start=1):
        append_row(
            sheet,
            [
                number,
                a.name,
                a.id_type,
                a.id_number,
                a.gender or "",
                a.ethnicity or "",
                a.education or "",
                a.phone,
                a.address,
                a.source or "",
                a.employer,
                a.years_in_trade if a.years_in_trade is not None else "",
                a.basis,
                clock.local(a.reviewed_at).strftime("%Y-%m-%d") if a.reviewed_at else "",
                a.enrolment.cohort.name if a.enrolment else "",
            ],
        )
    for letter, width in zip(
        "ABCDEFGHIJKLMNO", (6, 10, 12, 22, 6, 8, 10, 14, 30, 8, 24, 8, 30, 12, 24), strict=True
    ):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
