"""A personal file handed to the one who asked for it: a certificate's PDF, a credential, a
batch's package, a class's slips, an export. Every such download has the same shape, here."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from flask import Response, send_file

from certify.core.security import PRIVATE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def send_private(
    data: bytes | Path, filename: str, mimetype: str | None = None, *, inline: bool = False
) -> Response:
    """`data` (bytes, or the path of a stored file) as `filename`: saved by the browser, or
    shown in it when `inline` (a PDF in the page); never kept by a cache (PRIVATE). Without
    a mimetype, the filename's extension gives it."""
    body = BytesIO(data) if isinstance(data, bytes) else data
    response = send_file(body, mimetype=mimetype, as_attachment=not inline, download_name=filename)
    response.headers.update(PRIVATE)
    return response
