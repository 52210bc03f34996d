"""Files kept on disk: short-lived uploads, and stored files read back against their hash.

A trainer sees what an import will do before anything is saved; the file waits
here, under an unguessable token, until they confirm or it expires.

What the platform keeps for good (a certificate's PDF, a batch's package) has its SHA-256
on record; read_checked() gives its bytes only while they still hash to it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import current_app

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MAX_AGE_SECONDS = 2 * 60 * 60


def _folder(kind: str) -> Path:
    folder = Path(current_app.instance_path) / "uploads" / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in folder.glob("*"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def keep_upload(kind: str, data: bytes, meta: dict[str, Any]) -> str:
    folder = _folder(kind)
    _sweep(folder)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.bin").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False))
    return token


def fetch_upload(kind: str, token: str) -> tuple[bytes, dict[str, Any]] | None:
    if not TOKEN_PATTERN.match(token or ""):
        return None
    folder = _folder(kind)
    data_path, meta_path = folder / f"{token}.bin", folder / f"{token}.json"
    if not data_path.exists() or not meta_path.exists():
        return None
    if data_path.stat().st_mtime < time.time() - MAX_AGE_SECONDS:
        return None
    return data_path.read_bytes(), json.loads(meta_path.read_text())


def discard_upload(kind: str, token: str) -> None:
    if TOKEN_PATTERN.match(token or ""):
        folder = _folder(kind)
        for suffix in (".bin", ".json"):
            (folder / f"{token}{suffix}").unlink(missing_ok=True)


class AlteredFile(Exception):
    """A stored file whose bytes no longer hash to the SHA-256 on record."""


def read_checked(path: Path, sha256: str) -> bytes:
    """The bytes of a stored file, checked against its recorded SHA-256 before they leave.

    Raises FileNotFoundError when the file is gone and AlteredFile when it changed; the
    caller says which file, in words for the person who asked for it.
    """
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise AlteredFile(f"{path} does not match its recorded SHA-256")
    return data
