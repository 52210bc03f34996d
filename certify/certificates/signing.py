"""The issuing body's Ed25519 keys: making them, rotating them, signing and checking with them.

Private keys are files (in the instance folder's `keys/`, or `SIGNING_KEY_DIR`), written once
with mode 0600 and never stored in the database or the repository. Public keys are rows, so
every server publishes the same set at `/.well-known/jwks.json`, retired keys included: a
certificate signed before a rotation keeps verifying after it.

What is signed is the certificate's material fields as canonical JSON (sorted keys, no
spaces, UTF-8) behind a fixed label, so a signature over one thing can never be replayed as
a signature over another. Each payload version has its own label (v1 the identity fields,
v2 everything printed; see Certificate.material), so a v2 signature can never be passed off
as a v1 one over fewer fields, nor the other way round.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from flask_babel import gettext as _

from certify.certificates.models import SigningKey
from certify.core import clock
from certify.core.errors import Conflict
from certify.extensions import db

LABEL = b"certify-certificate-v1\n"
LABELS = {1: LABEL, 2: b"certify-certificate-v2\n"}


class NoSigningKey(Conflict):
    code = "no_signing_key"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Decode base64url with or without padding; ValueError for anything else."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def payload_version_of(material: dict) -> int:
    """v2 material says so itself (``payload_version``); v1 material predates the key."""
    return material.get("payload_version", 1)


def canonical(material: dict) -> bytes:
    """The signed bytes: the version's label, then canonical JSON (strings and nulls only,
    plus the version number, so json.dumps equals RFC 8785 here). ValueError for a version
    we never signed."""
    label = LABELS.get(payload_version_of(material))
    if label is None:
        raise ValueError("unknown payload version")
    return label + json.dumps(
        material, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def key_dir() -> Path:
    configured = current_app.config.get("SIGNING_KEY_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "keys"


def _key_file(key_id: str) -> Path:
    return key_dir() / f"{key_id}.pem"


def active_key() -> SigningKey | None:
    return db.session.scalar(
        sa.select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc())
    )


def _new_key() -> SigningKey:
    private = Ed25519PrivateKey.generate()
    key_id = "k" + secrets.token_hex(3)
    folder = key_dir()
    folder.mkdir(parents=True, exist_ok=True)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(_key_file(key_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = SigningKey(key_id=key_id, public_key=b64url(raw), created_at=clock.now())
    db.session.add(key)
    db.session.flush()
    return key


def init_keys() -> tuple[SigningKey, bool]:
    """The active key, made now if there is none. Returns (key, made_now)."""
    key = active_key()
    if key is not None:
        _private(key)  # refuse early when its file has gone missing
        return key, False
    return _new_key(), True


def rotate_keys() -> tuple[SigningKey, SigningKey | None]:
    """A new active key; the old one is retired but stays published. Returns (new, old)."""
    old = active_key()
    if old is not None:
        old.retired_at = clock.now()
    return _new_key(), old


def _private(key: SigningKey) -> Ed25519PrivateKey:
    path = _key_file(key.key_id)
    if not path.is_file():
        raise NoSigningKey(
            _(
                "The private key %(key)s is missing from %(folder)s. Restore it from the "
                "backup, or run `flask --app wsgi keys rotate` to start a new key.",
                key=key.key_id,
                folder=str(path.parent),
            )
        )
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise NoSigningKey(_("%(file)s is not an Ed25519 private key.", file=str(path)))
    return private


def sign_material(material: dict) -> tuple[str, str]:
    """Sign with the active key. Returns (key id, signature in base64url)."""
    key = active_key()
    if key is None:
        raise NoSigningKey(
            _("There is no signing key yet. Run `flask --app wsgi keys init` first.")
        )
    return key.key_id, b64url(_private(key).sign(canonical(material)))


def sign_bytes(data: bytes) -> tuple[str, bytes]:
    """Sign arbitrary bytes (the portable credential's proof) with the active key."""
    key = active_key()
    if key is None:
        raise NoSigningKey(
            _("There is no signing key yet. Run `flask --app wsgi keys init` first.")
        )
    return key.key_id, _private(key).sign(data)


def all_keys() -> list[SigningKey]:
    """Every key ever used, oldest first (a retired key before the one that replaced it)."""
    still_active = sa.case((SigningKey.retired_at.is_(None), 1), else_=0)
    return list(
        db.session.scalars(
            sa.select(SigningKey).order_by(SigningKey.created_at, still_active, SigningKey.key_id)
        )
    )


def public_keys() -> dict[str, Ed25519PublicKey]:
    rows = db.session.scalars(sa.select(SigningKey)).all()
    return {row.key_id: public_key_from(row.public_key) for row in rows}


def public_key_from(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(unb64url(text))


def verify_signature(
    material: dict, key_id: str, signature: str, keys: dict[str, Ed25519PublicKey]
) -> bool:
    """True only for a well-formed signature, by a known key, over exactly these fields."""
    key = keys.get(key_id)
    if key is None:
        return False
    try:
        key.verify(unb64url(signature), canonical(material))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def jwks() -> dict:
    """The public keys as a JSON Web Key Set (RFC 8037 OKP keys), retired ones too."""
    rows = all_keys()
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": row.public_key,
                "kid": row.key_id,
                "use": "sig",
                "alg": "EdDSA",
                "created": row.created_at.isoformat(),
                "retired": row.retired_at.isoformat() if row.retired_at else None,
            }
            for row in rows
        ]
    }


def keys_from_jwks(document: dict) -> dict[str, Ed25519PublicKey]:
    """Read a JWKS as published above (for the offline check); ignores what it cannot use."""
    keys = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        if entry.get("kty") == "OKP" and entry.get("crv") == "Ed25519" and entry.get("kid"):
            try:
                keys[entry["kid"]] = public_key_from(entry["x"])
            except (ValueError, KeyError, TypeError):
                continue
    return keys


def signature_param(key_id: str, signature: str) -> str:
    """The `sig` query value of a verification link: key id and signature in one."""
    return f"{key_id}.{signature}"


def split_signature_param(value: str | None) -> tuple[str, str] | None:
    if not value or value.count(".") != 1:
        return None
    key_id, signature = value.split(".")
    return (key_id, signature) if key_id and signature else None
