"""The session's ZIP streams each PDF only if it still hashes to what was checked before."""

import hashlib

import pytest

from certify.certificates.views import ZipEntry, _zip_stream
from certify.core.storage import AlteredFile


def test_a_pdf_changed_after_the_check_stops_the_download(tmp_path):
    good, changed = tmp_path / "C1.pdf", tmp_path / "C2.pdf"
    good.write_bytes(b"%PDF one")
    changed.write_bytes(b"%PDF two, edited")
    made = (2026, 11, 23, 9, 30, 0)
    entries = [
        ZipEntry("C1.pdf", good, hashlib.sha256(b"%PDF one").hexdigest(), made),
        ZipEntry("C2.pdf", changed, hashlib.sha256(b"%PDF two").hexdigest(), made),
    ]
    stream = _zip_stream(entries)
    assert next(stream)  # the first PDF went out
    with pytest.raises(AlteredFile, match=r"C2\.pdf"):
        next(stream)
