"""The issued certificate of tests/certificates, plus the link its QR code carries."""

from urllib.parse import urlsplit

import pypdfium2 as pdfium
import pytest
import zxingcpp

from certify.certificates.services import read_pdf
from tests.certificates.conftest import certificate, final_pass, signing_key  # noqa: F401

CONTRACT_KEYS = {
    "verdict",
    "endorsed",
    "endorsed_by",
    "endorsed_on",
    "holder",
    "trade",
    "level",
    "issued_on",
    "number",
}


def decode_qr(data: bytes) -> str:
    """Read the QR code of page 1 the way a phone would: from pixels, not from the PDF."""
    page = pdfium.PdfDocument(data)[0]
    codes = zxingcpp.read_barcodes(page.render(scale=3).to_pil())
    (url,) = [c.text for c in codes if c.format == zxingcpp.BarcodeFormat.QRCode]
    return url


def local_path(url: str) -> str:
    """The test client's path for a link printed with BASE_URL."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "http://127.0.0.1:5000", url
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def qr_link(certificate):  # noqa: F811
    """The path and query the certificate's QR code opens."""
    return local_path(decode_qr(read_pdf(certificate)))


@pytest.fixture
def lookup_limit(app, monkeypatch):
    """A small budget so the limit is reached in a few requests."""
    monkeypatch.setitem(app.config, "VERIFY_LOOKUP_LIMIT", "3 per minute")
    return 3
