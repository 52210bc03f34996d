"""Batch workers render PDFs in a niced thread of their own; everything else stays as it was."""

import io
import os
import sys
import threading

import pytest
from pypdf import PdfReader

from certify.core import pdf


@pytest.fixture
def background(monkeypatch):
    monkeypatch.setattr(pdf, "_background_nice", 0)
    monkeypatch.setattr(pdf, "_background", None)
    yield pdf
    if pdf._background is not None:
        pdf._background[1].shutdown(wait=True)


def _render_seen_from(seen: dict):
    real = pdf._render

    def spy(*args):
        tid = threading.get_native_id()
        seen["thread"] = tid
        if sys.platform.startswith("linux"):
            seen["nice"] = os.getpriority(os.PRIO_PROCESS, tid)
        return real(*args)

    return spy


def test_without_the_setting_pdfs_render_in_the_calling_thread(background, monkeypatch):
    seen: dict = {}
    monkeypatch.setattr(pdf, "_render", _render_seen_from(seen))
    data = pdf.render_pdf("<p>证书</p>")
    assert data.startswith(b"%PDF")
    assert seen["thread"] == threading.get_native_id()
    assert background._background is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux")
def test_a_batch_worker_renders_in_a_niced_thread_and_keeps_its_own_priority(
    background, monkeypatch
):
    seen: dict = {}
    monkeypatch.setattr(pdf, "_render", _render_seen_from(seen))
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    background.render_in_background(19)
    first = pdf.render_pdf("<p>证书</p>", attachments={"a.json": b"{}"})
    assert "a.json" in PdfReader(io.BytesIO(first)).attachments
    assert seen["thread"] != threading.get_native_id()
    assert seen["nice"] == 19
    # The calling thread, which commits and holds locks, is not lowered.
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
    thread = seen["thread"]
    pdf.render_pdf("<p>第二张</p>")
    assert seen["thread"] == thread  # one long-lived thread: its fonts are set up once


def test_qr_codes_are_made_in_the_rendering_thread_too(background, monkeypatch):
    seen = {}
    real = pdf._qr

    def spy(*args):
        seen["thread"] = threading.get_native_id()
        return real(*args)

    monkeypatch.setattr(pdf, "_qr", spy)
    assert pdf.qr_data_uri("https://example.org/v/1").startswith("data:image/png;base64,")
    assert seen["thread"] == threading.get_native_id()
    background.render_in_background(19)
    assert pdf.qr_data_uri("https://example.org/v/1").startswith("data:image/png;base64,")
    assert seen["thread"] != threading.get_native_id()


def test_a_forked_job_gets_a_rendering_thread_of_its_own(background, monkeypatch):
    background.render_in_background(10)
    first = pdf._executor()
    monkeypatch.setattr(pdf, "_background", (os.getpid() + 1, first))  # "made before a fork"
    assert pdf._executor() is not first
    first.shutdown(wait=True)
