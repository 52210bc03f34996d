"""The package a batch is submitted in: the roster workbook, every PDF, and a signed manifest.

The bureau (or anyone it passes the package to) can check it without us: every file is listed
in manifest.json with its SHA-256, and the manifest is signed with the issuing body's key,
published at /.well-known/jwks.json.

The manifest also carries the audit trail's head at submission (`audit_head`, see
audit/anchor.py): the bureau holding the package holds a signed copy of the trail's state, so
a later rewrite of any entry up to it shows (`flask --app wsgi audit verify --against`).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from certify.audit.anchor import Anchor
from certify.catalog.models import level_label
from certify.certificates.models import Certificate
from certify.certificates.services import enrolments_for, read_pdf, result_enrolments
from certify.certificates.signing import (
    b64url,
    keys_from_jwks,
    sign_bytes,
    unb64url,
)
from certify.cohorts.models import Enrolment
from certify.core import clock
from certify.core.spreadsheets import append_row
from certify.results.models import Result

MANIFEST = "manifest.json"
ROSTER = "评价结果汇总表.xlsx"
MANIFEST_LABEL = b"certify-batch-manifest-v1\n"
ROSTER_COLUMNS = (
    "序号",
    "姓名",
    "证件类型",
    "证件号码",
    "性别",
    "民族",
    "文化程度",
    "工作单位",
    "职业/工种",
    "等级",
    "理论知识成绩",
    "操作技能成绩",
    "评定结果",
    "证书编号",
    "发证日期",
)


class PackageError(ValueError):
    """A file that cannot be read as a batch package, or whose manifest is not ours."""


@dataclass(frozen=True)
class Package:
    data: bytes
    sha256: str
    key_id: str
    signature: str


def _canonical(manifest: dict) -> bytes:
    unsigned = {k: v for k, v in manifest.items() if k not in ("key_id", "signature")}
    return MANIFEST_LABEL + json.dumps(
        unsigned, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def build_package(
    reference: str,
    issuer: str,
    certificates: list[Certificate],
    audit_head: dict[str, Any] | None = None,
    not_proposed: list[Result] = (),
) -> Package:
    files: dict[str, bytes] = {ROSTER: roster_workbook(certificates, not_proposed)}
    for certificate in certificates:
        files[f"certificates/{certificate.number}.pdf"] = read_pdf(certificate)
    manifest = {
        "type": "certify-endorsement-batch-v1",
        "batch": reference,
        "issuer": issuer,
        "created_at": clock.now().isoformat(),
        "certificates": [
            {"number": c.number, "holder": c.holder_name, "pdf_sha256": c.pdf_sha256}
            for c in certificates
        ],
        "files": [
            {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in files.items()
        ],
        "audit_head": audit_head,
    }
    key_id, signature = sign_bytes(_canonical(manifest))
    manifest["key_id"], manifest["signature"] = key_id, b64url(signature)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        for name, data in files.items():
            # PDFs are compressed already; storing them keeps packing fast.
            kind = zipfile.ZIP_STORED if name.endswith(".pdf") else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=kind)
    data = buffer.getvalue()
    return Package(data, hashlib.sha256(data).hexdigest(), key_id, manifest["signature"])


def _open(data: bytes) -> tuple[zipfile.ZipFile, dict]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(archive.read(MANIFEST))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise PackageError("not a batch package: no readable manifest.json") from exc
    if not isinstance(manifest, dict):
        raise PackageError("not a batch package: manifest.json is not an object")
    return archive, manifest


def _signature_problem(manifest: dict, jwks: dict) -> str | None:
    key = keys_from_jwks(jwks).get(str(manifest.get("key_id", "")))
    if key is None:
        return f"unknown signing key {manifest.get('key_id')!r}"
    try:
        key.verify(unb64url(str(manifest.get("signature", ""))), _canonical(manifest))
    except Exception:  # InvalidSignature, or a malformed signature
        return "the manifest's signature does not match"
    return None


def signed_manifest(data: bytes, jwks: dict) -> dict:
    """The manifest of a package, once its signature holds; PackageError otherwise.

    Only the manifest is checked (not the PDFs): it is what vouches for the audit anchor.
    """
    _archive, manifest = _open(data)
    problem = _signature_problem(manifest, jwks)
    if problem:
        raise PackageError(problem)
    return manifest


def package_anchor(data: bytes, jwks: dict) -> tuple[str, Anchor]:
    """The batch reference and the audit anchor of a package whose signature holds."""
    manifest = signed_manifest(data, jwks)
    head = manifest.get("audit_head")
    if head is None:
        raise PackageError(
            "the package carries no audit anchor (it was made before packages carried one)"
        )
    try:
        anchor = Anchor.from_json(head)
    except ValueError as exc:
        raise PackageError(f"the package's audit anchor cannot be read ({exc})") from exc
    return str(manifest.get("batch", "?")), anchor


def check_package(data: bytes, jwks: dict) -> list[str]:
    """What is wrong with a package (an empty list when every hash and the signature hold)."""
    try:
        archive, manifest = _open(data)
    except PackageError as exc:
        return [str(exc)]
    problems = []
    problem = _signature_problem(manifest, jwks)
    if problem:
        problems.append(problem)
    listed = {entry["name"] for entry in manifest.get("files", [])}
    for entry in manifest.get("files", []):
        try:
            content = archive.read(entry["name"])
        except KeyError:
            problems.append(f"{entry['name']}: missing")
            continue
        if hashlib.sha256(content).hexdigest() != entry["sha256"]:
            problems.append(f"{entry['name']}: changed (SHA-256 differs)")
    extra = sorted(set(archive.namelist()) - listed - {MANIFEST})
    problems.extend(f"{name}: not in the manifest" for name in extra)
    return problems


def roster_workbook(certificates: list[Certificate], not_proposed: list[Result] = ()) -> bytes:
    """评价结果汇总表 / 花名册 with the Zhejiang registration fields, scores and numbers: the
    certificates first, then everyone else of their exams as 不合格 or 缺考 (never mixed up:
    an absentee has no scores)."""
    enrolments = enrolments_for(certificates)
    book = Workbook()
    sheet = book.active
    sheet.title = "评价结果汇总表"
    append_row(sheet, ROSTER_COLUMNS, Font(bold=True))
    for index, c in enumerate(certificates, start=1):
        # A 工作单位 typed as "=cmd|…" must reach the bureau as text, not as a formula.
        append_row(sheet, _certificate_line(index, c, enrolments.get(c.id)))
    others = result_enrolments(not_proposed)
    for index, r in enumerate(not_proposed, start=len(certificates) + 1):
        append_row(sheet, _not_proposed_line(index, r, others.get(r.id)))
    for column, width in zip(
        "ABCDEFGHIJKLMNO", (6, 10, 12, 22, 6, 8, 10, 28, 14, 14, 12, 12, 10, 26, 12), strict=True
    ):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _certificate_line(index: int, c: Certificate, e: Enrolment | None) -> list[object]:
    """A certified worker as the certificate has them: name, ID and scores as printed."""
    return [
        index,
        c.holder_name,
        c.id_type,
        c.id_number,
        *_registration(e),
        c.trade_name,
        c.level_name,
        c.theory if c.theory is not None else "",
        c.practical if c.practical is not None else "",
        "合格",
        c.number,
        c.issued_on.isoformat(),
    ]


def _not_proposed_line(index: int, r: Result, e: Enrolment | None) -> list[object]:
    """Someone not proposed for a certificate, from the account and the class; an absentee's
    line shows no scores, so 缺考 never reads as 不合格."""
    cohort = r.session.cohort
    return [
        index,
        r.user.name,
        getattr(e, "id_type", None) or "居民身份证",
        r.user.id_number or "",
        *_registration(e),
        cohort.trade.name,
        level_label(cohort.level) if cohort.level else "专项职业能力",
        "" if r.absent or r.theory is None else r.theory,
        "" if r.absent or r.practical is None else r.practical,
        r.outcome.chinese,
        "",
        "",
    ]


def _registration(e: Enrolment | None) -> list[str]:
    """性别, 民族, 文化程度, 工作单位 from the roster the worker was enrolled with; blank
    where there is no enrolment or the roster left them out."""
    return [
        getattr(e, "gender", None) or "",
        getattr(e, "ethnicity", None) or "",
        getattr(e, "education", None) or "",
        getattr(e, "employer", None) or "",
    ]
