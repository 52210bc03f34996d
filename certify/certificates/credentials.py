"""The portable credential: a certificate as an Open Badges 3.0 / W3C Verifiable Credential 2.0.

A worker can put this JSON into a digital wallet and show it where our website is not known;
anyone can check it with the issuer's published keys alone. It is signed with an embedded
Data Integrity proof, cryptosuite ``eddsa-jcs-2022``:

* the document and the proof options (with the document's ``@context``) are canonicalised
  with JCS, the JSON Canonicalization Scheme of RFC 8785;
* the signed bytes are SHA-256(canonical proof options) ‖ SHA-256(canonical document without
  the proof), signed with the issuer's active Ed25519 key (``signing.sign_bytes``);
* ``proofValue`` is the 64-byte signature in multibase base58btc (``"z"`` + base58).

The public keys are Multikeys in the issuer profile at ``/certificates/issuer``; the proof's
``verificationMethod`` names one of them by its key id, so a rotation keeps old credentials
verifiable. Revocation is looked up at ``credentialStatus.id`` (1EdTech Revocation List).

The claims are the printed certificate's (Certificate.material(2)): scores as printed, the
type of work (工种/职业方向) as the achievement's ``specialization`` once trades have one.

Privacy: the holder's ID number appears only as a salted SHA-256 ``IdentityObject`` and the
name only masked (王*明). An 18-digit ID number has little entropy, so the hash lets someone
who already has the worker's ID card confirm the match; it does not hide the number from a
determined guesser with the salt. That is the OB 3.0 design; the plain number stays off.

Example (inside an app context, after ``keys init``)::

    document = build_credential(certificate)
    assert verify_credential(document)
    document["credentialSubject"]["achievement"]["name"] = "焊工 一级/高级技师"
    assert not verify_credential(document)
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app

from certify.catalog.models import CertificateType
from certify.certificates.face import printed_date
from certify.certificates.models import Certificate
from certify.certificates.signing import (
    active_key,
    all_keys,
    public_keys,
    sign_bytes,
    unb64url,
)
from certify.core import clock
from certify.core.masking import mask_name

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_PURPOSE = "assertionMethod"
MULTICODEC_ED25519_PUB = b"\xed\x01"  # the multicodec prefix of an Ed25519 public key
REVOCATION_LIST_TYPE = "1EdTechRevocationList"
TITLES = {
    CertificateType.LEVEL.value: "职业技能等级证书",
    CertificateType.SPECIAL.value: "专项职业能力证书",
}
SCORES = (("theory", "理论知识考试"), ("practical", "操作技能考核"))


# --- addresses ------------------------------------------------------------------------


def _base() -> str:
    return current_app.config["BASE_URL"]


def issuer_id() -> str:
    return f"{_base()}/certificates/issuer"


def credential_id(certificate: Certificate) -> str:
    return f"{_base()}/certificates/{certificate.number}/credential"


def status_id(certificate: Certificate) -> str:
    return f"{_base()}/certificates/{certificate.number}/status"


def _stable_id(*parts: object) -> str:
    """A URN that stays the same for the same achievement on this deployment.

    An achievement needs an id but we publish no page per trade and level, so a name-based
    UUID (not a URL that would 404) is the honest choice.
    """
    name = "/".join(str(p) for p in (_base(), *parts))
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


# --- canonical form and multibase ------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """JCS, the JSON Canonicalization Scheme of RFC 8785, by the rfc8785 library.

    For what we sign (ASCII keys; strings, booleans, lists and objects: scores are strings,
    as OB 3.0 ``Result.value`` wants them) this is byte for byte the sorted, compact UTF-8
    ``json.dumps`` the credentials were first signed with. It differs where JCS does: keys
    ordered by UTF-16 code units, not code points, and numbers spelled as ECMAScript does.
    A value JCS cannot spell (a lone surrogate, NaN, an integer beyond 2**53, a key that is
    not a string) raises rfc8785.CanonicalizationError, a ValueError.
    """
    return rfc8785.dumps(value)


def multibase_b58(data: bytes) -> str:
    return "z" + base58.b58encode(data).decode("ascii")


def from_multibase_b58(text: str) -> bytes:
    """Decode ``z…`` base58btc; ValueError for anything else."""
    if not isinstance(text, str) or not text.startswith("z"):
        raise ValueError("not multibase base58btc")
    return base58.b58decode(text[1:])


def multikey(raw_public_key: bytes) -> str:
    """publicKeyMultibase of an Ed25519 key: "z" + base58(0xed 0x01 ‖ 32 key bytes)."""
    return multibase_b58(MULTICODEC_ED25519_PUB + raw_public_key)


def public_key_from_multikey(text: str) -> Ed25519PublicKey:
    data = from_multibase_b58(text)
    if len(data) != 34 or not data.startswith(MULTICODEC_ED25519_PUB):
        raise ValueError("not an Ed25519 multikey")
    return Ed25519PublicKey.from_public_bytes(data[2:])


# --- the issuer profile ----------------------------------------------------------------


def issuer_profile() -> dict[str, Any]:
    """Who issues, and every public key they have signed with (retired ones too)."""
    profile_id = issuer_id()
    rows = all_keys()
    methods = [
        {
            "id": f"{profile_id}#{row.key_id}",
            "type": "Multikey",
            "controller": profile_id,
            "publicKeyMultibase": multikey(unb64url(row.public_key)),
        }
        for row in rows
    ]
    return {
        "@context": CONTEXTS,
        "id": profile_id,
        "type": ["Profile"],
        "name": current_app.config["ISSUER_NAME"],
        "url": _base(),
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def keys_from_profile(profile: dict) -> dict[str, Ed25519PublicKey]:
    """The keys of a published profile by verification method id; ignores what it cannot use."""
    keys: dict[str, Ed25519PublicKey] = {}
    methods = profile.get("verificationMethod") if isinstance(profile, dict) else None
    for method in methods if isinstance(methods, list) else []:
        try:
            keys[method["id"]] = public_key_from_multikey(method["publicKeyMultibase"])
        except (KeyError, TypeError, ValueError):
            continue
    return keys


# --- building and signing --------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unsigned_credential(certificate: Certificate, salt: str | None = None) -> dict[str, Any]:
    """The credential's claims, without a proof. A fresh salt each time unless one is given."""
    salt = salt or secrets.token_hex(16)
    printed = certificate.material(2)  # the fields as the certificate prints them
    title = TITLES.get(certificate.certificate_type, "职业技能证书")
    return {
        "@context": list(CONTEXTS),
        "id": credential_id(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer_id(),
            "type": ["Profile"],
            "name": certificate.issuer_name,
        },
        "validFrom": _iso(certificate.created_at),
        "name": title,
        "credentialSubject": _subject(certificate, printed, title, salt),
        "credentialStatus": {"id": status_id(certificate), "type": REVOCATION_LIST_TYPE},
    }


def _subject(
    certificate: Certificate, printed: dict[str, Any], title: str, salt: str
) -> dict[str, Any]:
    """The holder, as little of them as a verifier needs: the name masked, the ID number only
    as a salted hash; their scores, where the certificate prints any."""
    level_key = certificate.level if certificate.level is not None else "special"
    descriptions, results = _score_claims(certificate, printed, level_key)
    identity_hash = hashlib.sha256((certificate.id_number + salt).encode("utf-8")).hexdigest()
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "name": mask_name(certificate.holder_name),
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": f"sha256${identity_hash}",
                "identityType": "nationalIdentityNumber",
                "hashed": True,
                "salt": salt,
            }
        ],
        "achievement": _achievement(certificate, printed, title, level_key, descriptions),
    }
    if results:
        subject["result"] = results
    return subject


def _score_claims(
    certificate: Certificate, printed: dict[str, Any], level_key: int | str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(ResultDescriptions of the achievement, the holder's Results): a score not assessed
    is not printed, so it is not claimed either."""
    descriptions, results = [], []
    for field, label in SCORES:
        value = printed[field]  # "82.0", as printed; a string, as OB 3.0 wants it
        if value is None:
            continue
        rd_id = _stable_id("achievement", certificate.trade_id, level_key, field)
        descriptions.append(
            {
                "id": rd_id,
                "type": ["ResultDescription"],
                "name": f"{label}成绩",
                "resultType": "RawScore",
                "valueMin": "0",
                "valueMax": "100",
            }
        )
        results.append({"type": ["Result"], "resultDescription": rd_id, "value": value})
    return descriptions, results


def _achievement(
    certificate: Certificate,
    printed: dict[str, Any],
    title: str,
    level_key: int | str,
    descriptions: list[dict[str, Any]],
) -> dict[str, Any]:
    """The trade and level achieved, the same id for everyone who achieves them here."""
    achievement: dict[str, Any] = {
        "id": _stable_id("achievement", certificate.trade_id, level_key),
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": f"{certificate.trade_name} {certificate.level_name}",
        "description": (
            f"{title}：{certificate.trade_name}（{certificate.level_name}），"
            f"由{certificate.issuer_name}于{printed_date(printed['issued_on'])}颁发，"
            f"证书编号 {certificate.number}。"
        ),
        "criteria": {
            "narrative": (
                "参加职业技能评价，理论知识考试和操作技能考核均达到合格标准，"
                "成绩经公示无异议后颁发。"
            )
        },
    }
    if descriptions:
        achievement["resultDescription"] = descriptions
    if printed["work_type"]:
        achievement["specialization"] = printed["work_type"]  # 工种/职业方向
    return achievement


def _hash_data(document: dict[str, Any], options: dict[str, Any]) -> bytes:
    """SHA-256(canonical proof config) ‖ SHA-256(canonical document), per eddsa-jcs-2022."""
    config = {k: v for k, v in options.items() if k != "proofValue"}
    if "@context" in document:
        config["@context"] = document["@context"]
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    return (
        hashlib.sha256(canonical_json(config)).digest()
        + hashlib.sha256(canonical_json(unsecured)).digest()
    )


def sign_credential(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the document with a Data Integrity proof by the active key."""
    unsecured = {k: v for k, v in copy.deepcopy(document).items() if k != "proof"}
    key = active_key()  # named in the proof options, which the signature covers
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _iso(clock.now()),
        "verificationMethod": f"{issuer_id()}#{key.key_id if key else ''}",
        "proofPurpose": PROOF_PURPOSE,
    }
    key_id, signature = sign_bytes(_hash_data(unsecured, options))
    options["verificationMethod"] = f"{issuer_id()}#{key_id}"
    if key is None or key.key_id != key_id:  # a rotation in between: name the key used
        key_id, signature = sign_bytes(_hash_data(unsecured, options))
    return {**unsecured, "proof": {**options, "proofValue": multibase_b58(signature)}}


def build_credential(certificate: Certificate) -> dict[str, Any]:
    """The signed credential of one certificate, as the holder downloads it."""
    return sign_credential(unsigned_credential(certificate))


# --- checking --------------------------------------------------------------------------


def verify_credential(document: Any, keys: dict[str, Ed25519PublicKey] | None = None) -> bool:
    """True only when the proof is ours, well formed, and covers exactly this document.

    ``keys`` maps verification method ids (``…/certificates/issuer#k1a2b3c``) to public keys,
    e.g. from ``keys_from_profile(published_profile)``; by default, every key in the
    database. Revocation is not part of this check: look at ``credentialStatus``.
    """
    if not isinstance(document, dict) or not isinstance(document.get("proof"), dict):
        return False
    proof = document["proof"]
    if (
        proof.get("type") != PROOF_TYPE
        or proof.get("cryptosuite") != CRYPTOSUITE
        or proof.get("proofPurpose") != PROOF_PURPOSE
    ):
        return False
    method = proof.get("verificationMethod")
    if keys is None:
        prefix = issuer_id() + "#"
        keys = {prefix + kid: key for kid, key in public_keys().items()}
    key = keys.get(method) if isinstance(method, str) else None
    if key is None:
        return False
    issuer = document.get("issuer")
    issuer_ref = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(issuer_ref, str) or not method.startswith(issuer_ref + "#"):
        return False  # a key of one issuer cannot vouch for a credential naming another
    try:
        signature = from_multibase_b58(proof.get("proofValue"))
        key.verify(signature, _hash_data(document, proof))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
