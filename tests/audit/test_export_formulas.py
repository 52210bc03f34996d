"""The audit export neutralises formula-like text the same way as every other export."""

import csv
import io
from types import SimpleNamespace

from openpyxl import load_workbook

from certify.audit import export, services
from certify.audit.services import record_event
from certify.extensions import db

HOSTILE = '=HYPERLINK("http://evil","x")'


def _events(subject):
    record_event("test.hostile", subject, actor=SimpleNamespace(id=None, username=HOSTILE))
    db.session.commit()
    return list(services.iter_events(services.TrailFilter(action="test.hostile")))


def test_csv_and_xlsx_keep_a_hostile_username_as_text(subject):
    out = io.BytesIO()
    export.write_csv(_events(subject), out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert rows[1][4] == "'" + HOSTILE
    out = io.BytesIO()
    export.write_xlsx(_events(subject)[:1], out)
    cell = load_workbook(out).active["E2"]
    assert (cell.data_type, cell.value) == ("s", HOSTILE)
    assert load_workbook(out).active["A2"].data_type == "n"
