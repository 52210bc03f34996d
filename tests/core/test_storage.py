"""Stored files read back only while they hash to what was recorded (core.storage.read_checked)."""

import hashlib

import pytest

from certify.core.storage import AlteredFile, read_checked


def test_a_stored_file_that_still_hashes_to_its_record_is_read(tmp_path):
    path = tmp_path / "C1.pdf"
    path.write_bytes(b"%PDF-1.7 certificate")
    assert read_checked(path, hashlib.sha256(b"%PDF-1.7 certificate").hexdigest()) == (
        b"%PDF-1.7 certificate"
    )


def test_a_changed_file_is_refused(tmp_path):
    path = tmp_path / "C1.pdf"
    recorded = hashlib.sha256(b"%PDF-1.7 certificate").hexdigest()
    path.write_bytes(b"%PDF-1.7 certificate, edited")
    with pytest.raises(AlteredFile, match=r"C1\.pdf"):
        read_checked(path, recorded)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_checked(tmp_path / "gone.pdf", hashlib.sha256(b"").hexdigest())
