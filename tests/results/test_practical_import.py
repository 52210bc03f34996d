"""Practical scores from a file read through the shared table reader: what the bank and roster
imports accept (tab-separated text) and refuse (an old .xls, a broken workbook) with a message
that names the file, never a traceback."""

import io
import zipfile

import pytest

from certify.accounts.models import Role
from certify.core.tables import UnusableFile
from certify.results import services as results
from tests.factories import make_user


@pytest.fixture
def examiner(trade):
    return make_user(Role.EXAMINER, username="ex1", trades=(trade.code,))


def test_tab_separated_scores_are_read(exam, worker, examiner):
    text = f"证件号码\t考评员\t分数\n{worker.id_number}\tex1\t88\n"
    report = results.import_practical_scores(exam, "scores.txt", text.encode("gb18030"))
    assert report.saved == 1 and not report.problems


def test_problems_name_the_row_as_excel_shows_it(exam, worker, examiner):
    text = f"证件号码,考评员,分数\n\n{worker.id_number},ex1,101\n"
    report = results.import_practical_scores(exam, "scores.csv", text.encode())
    assert [(p.number, p.field) for p in report.problems] == [(3, "分数")]
    assert report.saved == 0


def test_an_old_excel_file_is_refused_with_what_to_do(exam):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    with pytest.raises(UnusableFile, match=r"旧版 Excel（\.xls）"):  # "an old Excel (.xls)"
        results.import_practical_scores(exam, "scores.xls", data)


def test_a_workbook_that_cannot_be_opened_is_refused(exam):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "not xml")
    with pytest.raises(UnusableFile, match="不是可读的 Excel") as refused:
        results.import_practical_scores(exam, "scores.xlsx", buffer.getvalue())
    assert refused.value.filename == "scores.xlsx"
