"""The class progress workbook keeps a formula-like name as text and numbers as numbers."""

import io

from openpyxl import load_workbook

from certify.cohorts.dashboard import build_dashboard, dashboard_xlsx
from certify.extensions import db


def test_a_hostile_name_stays_text_in_the_dashboard_workbook(cohort, worker):
    worker.name = "=cmd|' /C calc'!A0"
    db.session.commit()
    data = dashboard_xlsx(cohort, build_dashboard(cohort))
    sheet = load_workbook(io.BytesIO(data)).active
    name, answers = sheet["A2"], sheet["C2"]
    assert (name.data_type, name.value) == ("s", "=cmd|' /C calc'!A0")
    assert (answers.data_type, answers.value) == ("n", 0)
