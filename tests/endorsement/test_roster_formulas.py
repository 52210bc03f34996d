"""The bureau's 评价结果汇总表 in a signed package keeps a formula-like 工作单位 as text."""

import io
import zipfile

from openpyxl import load_workbook

from certify.accounts.models import Role
from certify.certificates.services import enrolments_for
from certify.endorsement import services
from certify.endorsement.package import ROSTER
from certify.extensions import db
from tests.factories import make_user

EMPLOYER = "=cmd|' /C calc'!A0"


def test_a_hostile_employer_reaches_the_bureau_as_text(certificate):
    enrolments_for([certificate])[certificate.id].employer = EMPLOYER
    batch = services.submit_batch([certificate], make_user(Role.ADMIN, username="office"))
    db.session.commit()
    archive = zipfile.ZipFile(io.BytesIO(services.read_package(batch)))
    sheet = load_workbook(io.BytesIO(archive.read(ROSTER))).active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, sheet[2], strict=True))
    assert (row["工作单位"].data_type, row["工作单位"].value) == ("s", EMPLOYER)
    assert (row["理论知识成绩"].data_type, row["理论知识成绩"].value) == ("n", 100)
    assert (row["序号"].data_type, row["序号"].value) == ("n", 1)
