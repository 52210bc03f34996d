"""PDF rendering with WeasyPrint that can read nothing but the app's own static files.

Templates rendered to PDF may carry text typed by trainers and workers, so the
fetcher is locked down: no network and no file outside ``certify/static/``. What it
serves:

* ``data:`` URIs (e.g. the QR codes from :func:`qr_data_uri`);
* ``file://`` URLs of files inside ``certify/static/`` (symlinks and ``..`` resolved
  first, so neither leads out);
* ``/static/...`` references, as templates write them with ``url_for('static', ...)``:
  the default base URL is the static folder's ``file://`` URL, so such a reference
  arrives as ``file:///static/...`` and is read from ``certify/static/``.

Anything else raises :class:`ResourceRefused`; WeasyPrint logs it as a warning
("Failed to load ...") and leaves the resource out, so the PDF still renders.
"""

from __future__ import annotations

import base64
import contextlib
import io
import mimetypes
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib import request
from urllib.parse import urlsplit

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from weasyprint import HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url

STATIC_ROOT = (Path(__file__).resolve().parent.parent / "static").resolve()
STATIC_BASE_URL = path2url(str(STATIC_ROOT) + "/")
STATIC_URL_PREFIX = "/static/"
_fonts = threading.local()
_background_nice = 0  # 0: render in the calling thread
_background: tuple[int, ThreadPoolExecutor] | None = None  # (pid, executor)


class ResourceRefused(ValueError):
    """A PDF asked for something other than a static file or a data: URI."""


class StaticOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves data: URIs and certify/static/ only."""

    def __init__(self, static_root: Path = STATIC_ROOT) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
        self.static_root = Path(static_root).resolve()

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return self._data(url)
        if scheme == "file":
            path = self.static_path(url)
            if path is not None:
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    path2url(str(path)), path.read_bytes(), {"Content-Type": content_type}
                )
        raise ResourceRefused(f"PDF rendering may only use static files and data: URIs: {url!r}")

    def static_path(self, url: str) -> Path | None:
        """The file inside the static folder a file: URL names, or None."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        raw = request.url2pathname(parts.path)
        candidates = [Path(raw)]
        if raw.startswith(STATIC_URL_PREFIX):
            candidates.append(self.static_root / raw[len(STATIC_URL_PREFIX) :])
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved.is_relative_to(self.static_root) and resolved.is_file():
                return resolved
        return None

    @staticmethod
    def _data(url: str) -> URLFetcherResponse:
        response = request.DataHandler().data_open(request.Request(url))
        return URLFetcherResponse(
            url, response.read(), {"Content-Type": response.headers.get("Content-Type")}
        )


def render_in_background(nice: int) -> None:
    """From now on, render this process's PDFs in a thread of their own at niceness `nice`.

    For batch workers that share a machine with the app: rendering is nearly all of a
    batch's CPU, and at nice 19 it takes only what the exam leaves. Only the rendering:
    the database work around it (numbering, the audit entry, the commit) stays at normal
    priority, because a whole worker at nice 19 held the audit trail's lock while waiting
    for the CPU, and every exam start queued behind it (bench/exam_load.py). Linux sets
    niceness per thread; elsewhere the thread keeps the process's priority.
    """
    global _background_nice
    _background_nice = max(0, min(19, nice))


def render_pdf(
    html: str, base_url: str | None = None, attachments: dict[str, bytes] | None = None
) -> bytes:
    """Render an HTML string to PDF bytes, fetching only static files and data: URIs.

    ``base_url`` defaults to the static folder, so ``css/app.css`` and
    ``/static/css/app.css`` both find ``certify/static/css/app.css``. ``attachments``
    (file name → bytes) are embedded as PDF file attachments.
    """
    if _background_nice:
        return _executor().submit(_render, html, base_url, attachments).result()
    return _render(html, base_url, attachments)


def _executor() -> ThreadPoolExecutor:
    """The rendering thread of this process (a forked job gets its own: threads do not fork)."""
    global _background
    if _background is None or _background[0] != os.getpid():
        executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="pdf", initializer=_lower_priority
        )
        _background = (os.getpid(), executor)
    return _background[1]


def _lower_priority() -> None:
    # Not Linux, or not allowed: the thread renders at the process's priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _background_nice)


def _render(html: str, base_url: str | None, attachments: dict[str, bytes] | None) -> bytes:
    fetcher = StaticOnlyFetcher()
    document = HTML(string=html, base_url=base_url or STATIC_BASE_URL, url_fetcher=fetcher)
    embedded = [
        Attachment(string=data, name=name, url_fetcher=fetcher)
        for name, data in (attachments or {}).items()
    ]
    return document.write_pdf(attachments=embedded or None, font_config=_font_config())


def _font_config() -> FontConfiguration:
    """One font set-up per thread, kept: building it costs more than rendering a certificate.

    A fresh FontConfiguration for every document (WeasyPrint's default) also left about
    0.25 MB behind per PDF (bench/certificates.py). FontConfiguration is not thread-safe, and
    gunicorn serves with threads, hence one per thread.
    """
    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


def qr_data_uri(text: str, box_size: int = 8) -> str:
    """A QR code of ``text`` as a black-and-white PNG data URI (with the quiet zone).

    Show it with ``image-rendering: pixelated`` so printers keep the modules sharp. In a
    batch worker (render_in_background) it is made in the rendering thread: qrcode's mask
    search is the next biggest cost of a certificate after the layout.
    """
    if _background_nice:
        return _executor().submit(_qr, text, box_size).result()
    return _qr(text, box_size)


def _qr(text: str, box_size: int) -> str:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
