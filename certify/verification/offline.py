"""Checking a certificate PDF from the command line: `flask --app wsgi certificates verify FILE`.

The file speaks for itself first: every issued PDF carries its signed payload as an
attachment (or, failing that, the QR code's link with number and signature). The signature
is checked with the published keys (the JWKS), or with this installation's own keys when
asked to work offline or when the JWKS cannot be fetched. Next the page's text is read
back and compared, field by field, with the signed fields (certificates/face.py): a genuine
payload under an edited score or another person's page is refused, naming the field. Then,
if the register (this installation's database) answers, the file's SHA-256 is compared with
the issued file's and the certificate's status is read: a revoked, rejected or altered
certificate is not valid.

Exit codes (Report.exit_code): 0 valid; 1 not valid; 3 the signature and the printed text
hold but the register could not be asked, so revocation and the original file were not
checked — a partial answer, said in words, never a 0.

The output is for the person at the counter: a verdict line first, in plain Chinese with
English key words, then the details. Personal data is masked here too.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import urllib.request
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pypdfium2 as pdfium
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from pypdf import PdfReader
from sqlalchemy.exc import SQLAlchemyError

from certify.certificates.face import FIELD_NAMES, Mismatch, compare_face
from certify.certificates.models import V1_KEYS, V2_KEYS, Certificate, CertificateStatus
from certify.certificates.render import PAYLOAD_NAME, payload_type
from certify.certificates.services import find_certificate
from certify.certificates.signing import (
    keys_from_jwks,
    payload_version_of,
    public_keys,
    split_signature_param,
    verify_signature,
)
from certify.core.masking import mask_id_number, mask_name
from certify.extensions import db
from certify.verification.services import has_control_characters, public_facts

MATERIAL_KEYS = {1: frozenset(V1_KEYS), 2: frozenset(V2_KEYS)}  # by payload version
# v2 fields that may be null: no work type, no photo yet, a score not assessed.
NULLABLE = frozenset({"work_type", "theory", "practical", "photo_sha256"})
MAX_FILE_BYTES = 50 * 1024 * 1024  # certificates are a few hundred KB
MAX_JWKS_BYTES = 1024 * 1024
KEYS_TIMEOUT = 5  # seconds
QR_SCALES = (3, 5)  # 216 and 360 dpi: the first reads our own PDFs, the second scans
VERIFY_PATH = re.compile(r"/v/([^/]+)$")


@dataclass(frozen=True)
class Report:
    """What `certificates verify` prints (one line each) and how it exits.

    `signature_only`: the signature and the printed text hold, but the register was out of
    reach; not valid (exit 3), because revocation and the original file were not checked.
    """

    valid: bool
    lines: list[str] = field(default_factory=list)
    signature_only: bool = False

    @property
    def exit_code(self) -> int:
        if self.valid:
            return 0
        return 3 if self.signature_only else 1


@dataclass(frozen=True)
class Claim:
    """What the file says about itself. `material` is None when only the QR code was read."""

    number: str
    key_id: str
    signature: str
    material: dict | None
    source: str


class KeysUnavailable(Exception):
    """The JWKS could not be fetched or read; the message says why."""


def check_pdf_file(path: Path, keys_url: str | None = None, offline: bool = False) -> Report:
    """Check one certificate PDF; Report.valid only for a genuine, unaltered certificate in
    force. Never raises for a bad file: every failure becomes a plain verdict line."""
    data, problem = _read_file(Path(path))
    if problem:
        return Report(False, [problem])
    claim = read_claim(data)
    if claim is None:
        return Report(
            False,
            [
                "无法核验 NO SIGNATURE：文件里没有证书的签名数据，也没有能识别的二维码。",
                "这可能不是本中心发出的证书文件。请用手机扫描纸质证书上的二维码查验。",
            ],
        )
    keys, key_line = load_keys(keys_url, offline)
    reachable, certificate = _register(claim.number)
    return _judge(claim, data, keys, key_line, reachable, certificate)


def _read_file(path: Path) -> tuple[bytes, str | None]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return b"", "无法核验 TOO LARGE：文件太大，不是证书的 PDF 文件。"
        data = path.read_bytes()
    except OSError as exc:
        return b"", f"无法核验 UNREADABLE：读不了这个文件（{exc.strerror or exc}）。"
    if b"%PDF-" not in data[:1024]:
        return b"", "无法核验 NOT A PDF：这不是 PDF 文件。请选择证书的 PDF 文件。"
    return data, None


def read_claim(data: bytes) -> Claim | None:
    """The signed payload embedded in the PDF, else the QR code on page 1, else None."""
    return _claim_from_attachment(data) or _claim_from_qr(data)


def _claim_from_attachment(data: bytes) -> Claim | None:
    try:
        blobs = PdfReader(BytesIO(data)).attachments.get(PAYLOAD_NAME) or []
    except Exception:
        return None
    for blob in blobs:
        try:
            payload = json.loads(blob)
        except ValueError:
            continue
        claim = _claim_from_payload(payload)
        if claim is not None:
            return claim
    return None


def _claim_from_payload(payload: object) -> Claim | None:
    if not isinstance(payload, dict):
        return None
    material, key_id, signature = (payload.get(k) for k in ("material", "key_id", "signature"))
    if not (
        isinstance(material, dict)
        and _well_formed(material)
        and payload.get("type") == payload_type(payload_version_of(material))
        and isinstance(key_id, str)
        and isinstance(signature, str)
    ):
        return None
    return Claim(material["number"], key_id, signature, dict(material), "attachment")


def _well_formed(material: dict) -> bool:
    """Exactly the keys of its version, each a string (or null where v2 allows it)."""
    version = material.get("payload_version", 1)
    if version not in MATERIAL_KEYS or isinstance(version, bool):
        return False
    if set(material) != MATERIAL_KEYS[version]:
        return False
    return all(
        isinstance(value, str) or (value is None and key in NULLABLE)
        for key, value in material.items()
        if key != "payload_version"
    )


def _claim_from_qr(data: bytes) -> Claim | None:
    for text in _qr_texts(data):
        claim = claim_from_url(text)
        if claim is not None:
            return claim
    return None


def _qr_texts(data: bytes) -> list[str]:
    """The QR codes of page 1, rasterised as a phone camera would see it."""
    try:
        document = pdfium.PdfDocument(data)
    except Exception:
        return []
    try:
        if len(document) == 0:
            return []
        page = document[0]
        for scale in QR_SCALES:
            image = page.render(scale=scale).to_pil()
            codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
            texts = [code.text for code in codes if code.text]
            if texts:
                return texts
        return []
    except Exception:
        return []
    finally:
        document.close()


def claim_from_url(url: str) -> Claim | None:
    """Number and signature from a verification link: .../v/<number>?sig=<kid>.<sig>."""
    parts = urlsplit(url)
    match = VERIFY_PATH.search(parts.path)
    sig = parse_qs(parts.query).get("sig", [None])[0]
    split = split_signature_param(sig)
    if match is None or split is None:
        return None
    return Claim(unquote(match.group(1)), split[0], split[1], None, "qr")


def load_keys(keys_url: str | None, offline: bool) -> tuple[dict[str, Ed25519PublicKey], str]:
    """The public keys and a line saying where they came from."""
    if offline:
        return _local_keys("公钥 Keys：用本机数据库里的公钥 local database (--offline)。")
    url = keys_url or current_app.config["BASE_URL"] + "/.well-known/jwks.json"
    try:
        keys = fetch_jwks(url)
    except KeysUnavailable as exc:
        return _local_keys(
            f"公钥 Keys：连不上 {url}（{exc}），改用本机数据库里的公钥 "
            "fell back to the local database."
        )
    return keys, f"公钥 Keys：来自 from {url}。"


def _local_keys(line: str) -> tuple[dict[str, Ed25519PublicKey], str]:
    try:
        return public_keys(), line
    except SQLAlchemyError:
        db.session.rollback()
        return {}, line + " 但本机数据库也连不上 local database unreachable：没有公钥可用。"


def fetch_jwks(url: str) -> dict[str, Ed25519PublicKey]:
    if urlsplit(url).scheme not in ("http", "https"):
        raise KeysUnavailable("只支持 http/https only")
    try:
        with urllib.request.urlopen(url, timeout=KEYS_TIMEOUT) as response:
            body = response.read(MAX_JWKS_BYTES + 1)
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise KeysUnavailable(str(getattr(exc, "reason", None) or exc)) from exc
    if len(body) > MAX_JWKS_BYTES:
        raise KeysUnavailable("回应太大 response too large")
    try:
        keys = keys_from_jwks(json.loads(body))
    except (ValueError, TypeError, AttributeError) as exc:  # e.g. {"keys": ["x"]}
        raise KeysUnavailable("不是 JWKS not a JWKS document") from exc
    if not keys:
        raise KeysUnavailable("里面没有公钥 no keys")
    return keys


def _register(number: str) -> tuple[bool, Certificate | None]:
    """(reachable, certificate) from this installation's database."""
    if has_control_characters(number):
        return True, None
    try:
        return True, find_certificate(number)
    except SQLAlchemyError:
        db.session.rollback()
        return False, None


def _judge(
    claim: Claim,
    data: bytes,
    keys: dict[str, Ed25519PublicKey],
    key_line: str,
    reachable: bool,
    certificate: Certificate | None,
) -> Report:
    source = "PDF 内嵌签名数据 embedded payload" if claim.material else "二维码 QR code"
    details = [f"证书编号 Number：{claim.number}", f"签名来源 Source：{source}", key_line]
    material = claim.material or (certificate.material() if certificate else None)
    if material is None:
        return _report(
            False,
            "无法核验 NOT FOUND：二维码里的证书编号在登记库里查不到，无法核对签名。"
            if reachable
            else "无法核验 NO DATA：只读到二维码，又连不上登记库，无法核对签名。",
            details,
        )
    if not verify_signature(material, claim.key_id, claim.signature, keys):
        return _bad_signature(claim, keys, details)
    details.append(f"签名 Signature：正确 OK（密钥 key {claim.key_id}）")
    details.append(_coverage_line(material))
    refused = _check_printed_text(material, data, reachable and certificate is not None, details)
    if refused is not None:
        return refused
    if not reachable:
        return _signature_only(material, details)
    if certificate is None:
        return _report(
            False,
            "无法确认 NOT FOUND：签名正确，但本机登记库里没有这张证书，无法确认它现在是否有效。",
            details + _material_lines(material),
        )
    return _judge_with_register(claim, data, certificate, details)


def _bad_signature(claim: Claim, keys: dict[str, Ed25519PublicKey], details: list[str]) -> Report:
    why = "未知的密钥 unknown key"
    if claim.key_id in keys:
        why = "签名与内容不符 signature mismatch"
    details.append(f"签名 Signature：不正确 INVALID（{why}，密钥 key {claim.key_id}）")
    return _report(
        False, "无效 INVALID：签名不对。这份证书是伪造的或被改动过，不要相信它。", details
    )


def _check_printed_text(
    material: dict, data: bytes, registered: bool, details: list[str]
) -> Report | None:
    """The refusal when the printed text is not what was signed, else None (with a line in
    `details`). A page whose text cannot be read is left to the register, whose file hash
    can still vouch for it; without the certificate on the register nothing can."""
    mismatches = compare_face(material, _page_text(data))
    unreadable = [m for m in mismatches if m.field == "layout"]
    if mismatches and not unreadable:
        return _report(False, _mismatch_verdict(mismatches), details + _face_lines(mismatches))
    if unreadable:
        details.extend(_face_lines(unreadable))
        if not registered:
            return _report(
                False,
                "无法核验 UNREADABLE：签名正确，但读不出证书上印的文字，无法确认印的就是签名的"
                "内容。请以网上查验结果为准。",
                details + _material_lines(material),
            )
    else:
        details.append("印面文字 Printed text：和签名的内容一致 matches the signed fields。")
    return None


def _signature_only(material: dict, details: list[str]) -> Report:
    """The register is out of reach: the signature and the printed text hold, but neither
    revocation nor the original file was checked, so it is not a full answer (exit 3)."""
    details.append("登记库 Register：连不上 unreachable，没有核对撤销状态和文件原件。")
    return Report(
        False,
        [
            "只核对了签名 SIGNATURE ONLY：签名正确，证书上印的文字和签名一致；但连不上登记库，"
            "没有核对证书是否已撤销、文件是否原件。这不是完整的查验，请再网上查验。",
            *details,
            *_material_lines(material),
        ],
        signature_only=True,
    )


def _page_text(data: bytes) -> str:
    """The text layer of the one page a certificate has; "" when there is none to read."""
    try:
        pages = PdfReader(BytesIO(data)).pages
        if len(pages) != 1:
            return ""  # a certificate is one page; a second one is not guessed at
        return pages[0].extract_text() or ""
    except Exception:  # pypdf raises many kinds on a damaged file; the verdict says unreadable
        return ""


def _coverage_line(material: dict) -> str:
    if payload_version_of(material) == 1:
        return (
            "签名范围 Signed fields：v1（编号、姓名、证件、职业、等级、评价机构、发证日期；"
            "成绩和工种不在签名里 scores and type of work are not signed）"
        )
    return "签名范围 Signed fields：v2（证书上印的全部内容 every printed field）"


def _mismatch_verdict(mismatches: list[Mismatch]) -> str:
    names = "、".join(FIELD_NAMES.get(m.field, m.field) for m in mismatches)
    return (
        f"无效 MISMATCH：证书上印的{names}和签名的内容不一致。"
        "这份证书被改动过或是拼凑的，不要相信它。"
    )


def _face_lines(mismatches: list[Mismatch]) -> list[str]:
    return [f"印面文字 Printed text：{m.line()}" for m in mismatches]


def _judge_with_register(
    claim: Claim, data: bytes, certificate: Certificate, details: list[str]
) -> Report:
    facts = public_facts(certificate)
    details += _material_lines(certificate.material())
    if claim.material is not None and claim.material != certificate.material():
        return _report(False, "无效 MISMATCH：文件里的内容和登记库不一致，不要相信它。", details)
    same = hmac.compare_digest(hashlib.sha256(data).hexdigest(), certificate.pdf_sha256 or "")
    if same:
        details.append("文件指纹 SHA-256：和发出的原件一致 matches the issued file。")
    else:
        details.append("文件指纹 SHA-256：和发出的原件不一致 DIFFERS from the issued file。")
    if certificate.status is CertificateStatus.REVOKED:
        details.append(f"撤销日期 Revoked on：{facts.revoked_on or '—'}")
        details.append(f"撤销原因 Reason：{facts.revoked_reason or '—'}")
        if facts.superseded_by:
            details.append(f"已换发新证 Replaced by：{facts.superseded_by}")
        return _report(False, "已撤销 REVOKED：这张证书已被撤销，不再有效。", details)
    if certificate.status is CertificateStatus.REJECTED:
        details.append(f"原因 Reason：{facts.rejected_reason or '—'}")
        return _report(
            False, "未通过备案 REJECTED：人社部门没有通过这张证书的备案，证书无效。", details
        )
    if not same:
        verdict = (
            "无效 ALTERED：文件和发出的原件不一样，可能被改动过。请以网上查验结果为准。"
            if claim.material
            else "无法确认 NOT ORIGINAL：二维码的签名正确，但这个文件不是发出的原件"
            "（可能是扫描件，也可能被改动过）。请以网上查验结果为准。"
        )
        return _report(False, verdict, details)
    if certificate.status is CertificateStatus.ENDORSED:
        details.append(f"备案 Endorsed：{facts.endorsed_by or '—'}，{facts.endorsed_on or '—'}")
    else:
        details.append("备案 Endorsement：还在办理中 pending。")
    return _report(True, "有效 VALID：证书是真的，文件没有被改动，也没有被撤销。", details)


def _material_lines(material: dict) -> list[str]:
    lines = [
        f"持证人 Holder：{mask_name(material.get('holder', ''))}"
        f"（{material.get('id_type', '')} {mask_id_number(material.get('id_number', ''))}）",
        f"职业 Trade：{material.get('trade', '')} · {material.get('level', '')}",
        f"发证 Issued：{material.get('issued_on', '')} · {material.get('issuer', '')}",
    ]
    if "theory" in material or "practical" in material:
        lines.append(
            f"成绩 Scores：理论知识 theory {material.get('theory') or '—'} · "
            f"操作技能 practical {material.get('practical') or '—'}"
        )
    return lines


def _report(valid: bool, verdict: str, details: list[str]) -> Report:
    return Report(valid, [verdict, *details])
