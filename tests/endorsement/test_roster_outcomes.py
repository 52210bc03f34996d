"""The bureau's 评价结果汇总表 accounts for every candidate and tells 不合格 from 缺考."""

import io
import zipfile

from openpyxl import load_workbook

from certify.accounts.models import Role
from certify.certificates.services import issue_pending_certificates
from certify.endorsement import services
from certify.endorsement.package import ROSTER
from certify.exams import services as exams
from certify.extensions import db
from certify.results import services as results
from tests.factories import make_user


def test_the_roster_lists_the_failure_and_the_absentee_apart(exam, hall, signing_key, frozen_clock):
    exams.close_session(exam)
    results.publish_results(exam, 0)
    frozen_clock.advance(minutes=1)
    results.finalize_results(exam)
    certificates = [o.certificate for o in issue_pending_certificates(exam)]
    batch = services.submit_batch(certificates, make_user(Role.ADMIN, username="office"), exam)
    db.session.commit()
    archive = zipfile.ZipFile(io.BytesIO(services.read_package(batch)))
    sheet = load_workbook(io.BytesIO(archive.read(ROSTER))).active
    header = [cell.value for cell in sheet[1]]
    rows = {
        r[header.index("姓名")]: dict(zip(header, r, strict=True))
        for r in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert len(rows) == 3
    passer, failer, absentee = (rows[hall[k].name] for k in ("passer", "failer", "absentee"))
    assert passer["评定结果"] == "合格" and passer["证书编号"] == certificates[0].number
    assert failer["评定结果"] == "不合格" and failer["操作技能成绩"] == 85
    assert failer["证书编号"] in (None, "")
    assert absentee["评定结果"] == "缺考"
    assert absentee["理论知识成绩"] in (None, "") and absentee["操作技能成绩"] in (None, "")
    assert [rows[n]["序号"] for n in rows] == [1, 2, 3]
