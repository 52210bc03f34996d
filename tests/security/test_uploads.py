"""Every upload is judged by its bytes, not its name: a renamed binary is refused with a
message that says what to do, never a server error, and nothing is saved."""

import io
import re
import zipfile

import pytest
import sqlalchemy as sa

from certify.banks.models import Question
from certify.cohorts.models import Enrolment
from certify.extensions import db
from certify.results.models import PracticalScore
from certify.training.models import Material
from tests.security.conftest import log_in

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8


def _zip() -> bytes:
    """A real ZIP archive that is not a workbook (an .xlsx is a ZIP too)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


NOT_XLSX = "这不是可读的 Excel（.xlsx）文件"  # "This is not a readable Excel (.xlsx) file"
NOT_TEXT = "这个文件不是可读的文本"  # "This file is not readable text"
RENAMED = [
    pytest.param("file.xlsx", PNG, NOT_XLSX, id="png-as-xlsx"),
    pytest.param("file.csv", PNG, NOT_TEXT, id="png-as-csv"),
    pytest.param("file.xlsx", _zip(), NOT_XLSX, id="zip-as-xlsx"),
    pytest.param("file.csv", ELF, NOT_TEXT, id="elf-as-csv"),
]


def _upload(client, url, field, filename, data, **extra):
    return client.post(
        url,
        data={field: (io.BytesIO(data), filename), **extra},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _errors(response) -> str:
    """The form's error list and the flashed messages: where a refusal is explained."""
    text = response.get_data(as_text=True)
    parts = re.findall(r'<ul class="errors"[^>]*>(.*?)</ul>', text, re.DOTALL)
    parts += re.findall(r'class="flash flash-error"[^>]*>(.*?)<', text, re.DOTALL)
    return " ".join(parts)


@pytest.mark.parametrize(("filename", "data", "message"), RENAMED)
def test_question_bank_import(client, world, filename, data, message):
    log_in(client, "teacher")
    before = _count(Question)
    response = _upload(client, f"/banks/{world.trade.code}/import", "file", filename, data)
    assert response.status_code == 422
    assert f"{filename}: {message}" in _errors(response)
    assert _count(Question) == before


@pytest.mark.parametrize(("filename", "data", "message"), RENAMED)
def test_roster_import(client, world, filename, data, message):
    log_in(client, "teacher")
    before = _count(Enrolment)
    response = _upload(client, f"/cohorts/{world.cohort.id}/roster", "file", filename, data)
    assert response.status_code == 422
    if filename.endswith(".xlsx") and data is PNG:
        message = NOT_TEXT  # not a ZIP, so read as text (the roster takes CSV under any name)
    assert f"{filename}: {message}" in _errors(response)
    assert _count(Enrolment) == before


@pytest.mark.parametrize(("filename", "data", "message"), RENAMED)
def test_practical_scores_import(client, world, filename, data, message):
    log_in(client, "ex1")
    before = _count(PracticalScore)
    url = f"/exams/sessions/{world.exam.id}/practical"
    response = _upload(client, url, "upload-file", filename, data)
    assert response.status_code == 200  # back on the page, the problem flashed
    if filename.endswith(".xlsx") and data is PNG:
        message = NOT_TEXT
    assert f"{filename}: {message}" in _errors(response)
    assert _count(PracticalScore) == before


@pytest.mark.parametrize("data", [PNG, _zip(), ELF], ids=["png", "zip", "elf"])
def test_the_public_pdf_check(client, world, data):
    url = f"/v/{world.certificate.number}/pdf"
    response = _upload(client, url, "pdf", "certificate.pdf", data)
    assert response.status_code == 422
    assert "这不是 PDF 文件" in _errors(response)  # "This is not a PDF file"


@pytest.mark.parametrize(
    "data",
    [_zip(), ELF, b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"],
    ids=["zip", "elf", "svg"],
)
def test_class_materials_refuse_what_is_not_pdf_png_or_jpeg(client, world, data):
    log_in(client, "teacher")
    before = _count(Material)
    url = f"/cohorts/{world.cohort.id}/materials"
    response = _upload(client, url, "file", "slides.pdf", data, title="第二讲课件")
    assert response.status_code == 200
    assert "只能上传 PDF、PNG 和 JPEG 文件" in _errors(response)  # "Only PDF, PNG and JPEG"
    assert _count(Material) == before


def test_a_material_is_served_as_what_it_is_not_as_what_it_is_called(client, world):
    log_in(client, "teacher")
    url = f"/cohorts/{world.cohort.id}/materials"
    response = _upload(client, url, "file", "slides.pdf", PNG, title="第二讲课件")
    assert response.status_code == 200
    db.session.expire_all()
    material = db.session.scalar(sa.select(Material).where(Material.title == "第二讲课件"))
    served = client.get(f"/learn/materials/{material.id}")
    assert served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
