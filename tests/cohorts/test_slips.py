"""Login slips (登录凭条) and the locked-down PDF renderer under them."""

from __future__ import annotations

import base64
import io
import logging
import re

import pytest
from flask_babel import gettext

from certify.cohorts.slips import SlipData, render_login_slips
from certify.core.pdf import (
    STATIC_ROOT,
    ResourceRefused,
    StaticOnlyFetcher,
    qr_data_uri,
    render_pdf,
)

pypdf = pytest.importorskip("pypdf")

LOGIN_URL = "https://certify.example.cn/login"
FULL_ID = "330302199001010025"
FULL_ID_PATTERN = re.compile(r"\d{17}[\dXx]|\d{15}")
SLIPS = [
    SlipData(
        name="王䶮",
        login=FULL_ID,
        masked_id="330302********0025",
        password="ab3kq7mpx9",
        cohort="2026年鹿城电工培训一班",
        trade="电工（四级）",
        exam_time="2026-12-05 09:00",
        login_url=LOGIN_URL,
    ),
    SlipData(
        name="李喆",
        login="33030219850505123X",
        masked_id="330302********123X",
        password=None,
        cohort="2026年鹿城电工培训一班",
        trade="电工（四级）",
        exam_time=None,
        login_url=LOGIN_URL,
    ),
    SlipData(
        name="张堃",
        login="330302200012310047",
        masked_id="330302********0047",
        password="mn4p8qr2st",
        cohort="2026年鹿城电工培训一班",
        trade="电工（四级）",
        exam_time="2026-12-05 09:00",
        login_url=LOGIN_URL,
    ),
]


@pytest.fixture(scope="module")
def rendered(app):
    """Render the three slips once for the whole module (about 0.4 s)."""
    with app.test_request_context("/"):
        pdf = render_login_slips(SLIPS, "登录凭条")
        already_changed = gettext("Already changed: use your own password")
    return pdf, already_changed


@pytest.fixture(scope="module")
def pages(rendered):
    reader = pypdf.PdfReader(io.BytesIO(rendered[0]))
    return [page.extract_text() for page in reader.pages]


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _images_on(page) -> list:
    return list(page.images)


def test_one_pdf_page_per_worker(rendered):
    pdf, _ = rendered
    assert pdf.startswith(b"%PDF")
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 3


def test_each_page_shows_its_worker(pages):
    for slip, text in zip(SLIPS, pages, strict=True):
        assert slip.name in text
        assert slip.masked_id in text
        assert slip.cohort in text
        assert slip.trade in text
        assert LOGIN_URL in _squeeze(text)
        if slip.password:
            assert slip.password in text


def test_full_id_numbers_are_never_printed(pages):
    for slip, text in zip(SLIPS, pages, strict=True):
        assert slip.login not in text
        assert not FULL_ID_PATTERN.search(text)


def test_a_changed_password_is_not_printed(rendered, pages):
    _, already_changed = rendered
    assert _squeeze(already_changed) in _squeeze(pages[1])
    assert _squeeze(already_changed) not in _squeeze(pages[0])


def test_rare_name_characters_are_real_text(pages):
    """䶮 (CJK Extension A), 喆 and 堃 come through as text, not as missing glyphs."""
    joined = "".join(pages)
    for char in "䶮喆堃":
        assert char in joined
    assert "\ufffd" not in joined


def test_qr_code_is_an_embedded_image(rendered):
    page = pypdf.PdfReader(io.BytesIO(rendered[0])).pages[0]
    assert len(_images_on(page)) == 1


def test_qr_code_decodes_to_the_login_url(rendered):
    pdfium = pytest.importorskip("pypdfium2")
    zxingcpp = pytest.importorskip("zxingcpp")
    document = pdfium.PdfDocument(rendered[0])
    try:
        image = document[0].render(scale=2).to_pil()
    finally:
        document.close()
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode] == [LOGIN_URL]


def test_qr_data_uri_is_a_png():
    uri = qr_data_uri(LOGIN_URL)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).startswith(b"\x89PNG")


def test_login_falls_back_to_a_masked_login_and_never_a_full_id():
    slip = SlipData("张三", FULL_ID, "", "ab3kq7mpx9", "班", "电工", None, LOGIN_URL)
    assert slip.shown_login == "330302********0025"
    slip = SlipData("张三", "zhangsan", "", "ab3kq7mpx9", "班", "电工", None, LOGIN_URL)
    assert slip.shown_login == "zhangsan"
    assert not slip.logs_in_with_id
    slip = SlipData("张三", FULL_ID, FULL_ID, "ab3kq7mpx9", "班", "电工", None, LOGIN_URL)
    assert slip.shown_login == "330302********0025"


# --- the fetcher -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.png",
        "https://example.com/x.png",
        "ftp://example.com/x.png",
        "file:///etc/passwd",
        "file:///static/../../../../etc/passwd",
        "file://otherhost/static/css/app.css",
        f"file://{STATIC_ROOT}/../__init__.py",
        "file:///static/no-such-file.css",
    ],
)
def test_fetcher_refuses_anything_but_static_files(url):
    with pytest.raises(ResourceRefused):
        StaticOnlyFetcher().fetch(url)


def test_fetcher_refuses_symlinks_out_of_the_static_folder(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (static / "link.txt").symlink_to(secret)
    with pytest.raises(ResourceRefused):
        StaticOnlyFetcher(static).fetch("file:///static/link.txt")
    with pytest.raises(ResourceRefused):
        StaticOnlyFetcher(static).fetch(f"file://{static}/link.txt")


def test_fetcher_serves_static_files_and_data_uris():
    fetcher = StaticOnlyFetcher()
    expected = (STATIC_ROOT / "css" / "app.css").read_bytes()
    for url in ("file:///static/css/app.css", f"file://{STATIC_ROOT}/css/app.css?v=1"):
        response = fetcher.fetch(url)
        assert response.read() == expected
        assert response.content_type == "text/css"
        response.close()
    response = fetcher.fetch(qr_data_uri("x"))
    assert response.content_type == "image/png"
    assert response.read().startswith(b"\x89PNG")


def test_render_pdf_leaves_out_refused_images(caplog):
    html = (
        '<p>Hello</p><img src="http://example.com/x.png"><img src="file:///etc/passwd">'
        '<img src="../__init__.py">'
    )
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = render_pdf(html)
    refusals = [r.getMessage() for r in caplog.records if "ResourceRefused" in r.getMessage()]
    assert len(refusals) == 3
    assert any("example.com" in message for message in refusals)
    assert any("/etc/passwd" in message for message in refusals)
    assert any("certify/__init__.py" in message for message in refusals)
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    assert "Hello" in page.extract_text()
    assert _images_on(page) == []


def test_render_pdf_uses_static_files_and_data_uris(caplog):
    html = (
        '<link rel="stylesheet" href="/static/css/app.css">'
        f'<img src="{qr_data_uri("x")}" style="width: 20mm">'
    )
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = render_pdf(html)
    assert not [r for r in caplog.records if "Failed to load" in r.getMessage()]
    assert len(_images_on(pypdf.PdfReader(io.BytesIO(pdf)).pages[0])) == 1
