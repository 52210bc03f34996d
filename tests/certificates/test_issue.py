"""Issuing: only final passes, numbers that are never reused, signed fields, stored PDFs."""

import hashlib
import io
import json
import re
import stat
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
import zxingcpp

from certify.audit.models import AuditEvent
from certify.catalog.models import CertificateType
from certify.catalog.number_formats import format_problem
from certify.certificates import services
from certify.certificates.models import Certificate, CertificateStatus
from certify.certificates.render import PAYLOAD_NAME
from certify.certificates.signing import (
    NoSigningKey,
    init_keys,
    key_dir,
    public_keys,
    rotate_keys,
    split_signature_param,
    verify_signature,
)
from certify.core.errors import Conflict, ValidationFailed
from certify.extensions import db
from certify.results.models import ResultStatus

RARE_NAMES = ["刘䶮", "王堃", "陈喆", "李昇", "赵珺"]


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    return "".join(page.get_textpage().get_text_range() for page in document)


def test_the_national_22_character_number(certificate, trade):
    assert re.fullmatch(r"S0000330300012650{5}1", certificate.number), certificate.number
    assert len(certificate.number) == 22
    assert certificate.level == 5 and certificate.level_name == "五级/初级工"


def test_a_special_certificate_has_no_level_and_its_own_format(final_pass, signing_key, trade):
    trade.certificate_type = CertificateType.SPECIAL
    certificate = services.issue_certificate(final_pass)
    assert certificate.level is None and certificate.level_name == "专项职业能力"
    assert re.fullmatch(r"ZX3303000126000001", certificate.number)
    text = pdf_text(services.read_pdf(certificate)).replace(" ", "")
    assert "专项职业能力证书" in text and "职业技能等级证书" not in text


def test_a_trade_may_set_its_own_number_format(final_pass, signing_key, trade):
    trade.certificate_number_format = "WZ{yyyy}-{level}-{serial:04d}"
    assert services.issue_certificate(final_pass).number == "WZ2026-5-0001"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{kind}{serial:06d}", None),
        ("{kind}{serial:06d}X", None),
        ("{serial:06d}{yy}", "{serial}"),
        ("{kind}{yy}", "{serial}"),
        ("{kind}{town}{serial}", "{town}"),
        ("{kind}}{serial}", ""),  # any message: an unmatched brace
        ("{kind", ""),
    ],
)
def test_number_formats_are_checked(app, template, problem):
    found = format_problem(template)
    assert (found is None) if problem is None else (problem in found), found


def test_serials_go_on_after_a_revocation_and_are_never_reused(
    final_pass, signing_key, frozen_clock
):
    first = services.issue_certificate(final_pass)
    second = services.reissue_certificate(first, "姓名更正")
    db.session.commit()
    assert first.status is CertificateStatus.REVOKED and first.revoked_reason == "姓名更正"
    assert second.supersedes_id == first.id
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1
    with pytest.raises(Conflict):
        services.reissue_certificate(first, "again")


def test_only_a_final_pass_receives_a_certificate(final_pass, signing_key):
    final_pass.passed = False
    with pytest.raises(Conflict):
        services.issue_certificate(final_pass)
    final_pass.passed, final_pass.status = True, ResultStatus.PUBLISHED
    with pytest.raises(Conflict):
        services.issue_certificate(final_pass)
    final_pass.status = ResultStatus.FINAL
    services.issue_certificate(final_pass)
    with pytest.raises(Conflict) as refused:
        services.issue_certificate(final_pass)
    assert refused.value.code == "already_issued"


def test_illegal_status_changes_are_refused(certificate, frozen_clock):
    with pytest.raises(Conflict):
        certificate.endorse("温州市人力资源和社会保障局", frozen_clock.now())  # not submitted yet
    certificate.submit(frozen_clock.now())
    certificate.reject("照片不清晰", frozen_clock.now())
    with pytest.raises(Conflict):
        certificate.endorse("温州市人力资源和社会保障局", frozen_clock.now())
    certificate.revoke("重新审核", frozen_clock.now())
    with pytest.raises(Conflict):
        certificate.revoke("twice", frozen_clock.now())


def test_the_stored_pdf_carries_the_fields_a_qr_code_and_the_signed_payload(certificate, app):
    data = services.read_pdf(certificate)
    assert hashlib.sha256(data).hexdigest() == certificate.pdf_sha256
    assert len(data) == certificate.pdf_bytes < 150 * 1024
    text = pdf_text(data)
    for field in (
        certificate.holder_name,
        certificate.id_number,
        certificate.number,
        "仓库保管员",
        "五级/初级工",
        certificate.issuer_name,
        "jndj.osta.org.cn",
        "pjjg.osta.org.cn",
    ):
        assert field in text.replace(" ", ""), field
    page = pdfium.PdfDocument(data)[0]
    width, height = page.get_size()
    assert width > height  # A4 landscape
    codes = zxingcpp.read_barcodes(page.render(scale=3).to_pil())
    (url,) = [c.text for c in codes if c.format == zxingcpp.BarcodeFormat.QRCode]
    assert url == services.verify_url(certificate)
    number, sig = re.fullmatch(r"http://127\.0\.0\.1:5000/v/(\w+)\?sig=(.+)", url).groups()
    assert number == certificate.number
    key_id, signature = split_signature_param(sig)
    assert verify_signature(certificate.material(), key_id, signature, public_keys())
    payload = json.loads(pypdf.PdfReader(io.BytesIO(data)).attachments[PAYLOAD_NAME][0])
    assert payload["material"] == certificate.material() and payload["verify_url"] == url


def test_fonts_are_embedded(certificate):
    reader = pypdf.PdfReader(io.BytesIO(services.read_pdf(certificate)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for font in fonts.values():
        font = font.get_object()
        descendant = (
            font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        )
        descriptor = descendant["/FontDescriptor"].get_object()
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font


@pytest.mark.parametrize("name", RARE_NAMES)
def test_rare_name_characters_are_printed_not_boxes(final_pass, signing_key, name):
    final_pass.user.name = name
    certificate = services.issue_certificate(final_pass)
    data = services.read_pdf(certificate)
    assert name in pdf_text(data)
    reader = pypdf.PdfReader(io.BytesIO(data))
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        assert "LastResort" not in str(font.get_object()["/BaseFont"])


def test_a_download_never_re_renders(certificate, app):
    path = services.pdf_path(certificate)
    path.write_bytes(path.read_bytes() + b"%tampered")
    with pytest.raises(Conflict) as refused:
        services.read_pdf(certificate)
    assert refused.value.code == "pdf_altered"


def test_the_material_fields_are_frozen_at_issue(certificate, worker):
    worker.name = "改名字"
    db.session.commit()
    assert certificate.holder_name != "改名字"
    assert certificate.material()["holder"] == certificate.holder_name


def test_signatures_survive_a_key_rotation(certificate, app):
    old_key = certificate.key_id
    new, old = rotate_keys()
    db.session.commit()
    assert old.key_id == old_key and new.key_id != old_key and old.retired_at is not None
    keys = public_keys()
    assert set(keys) == {old_key, new.key_id}
    assert verify_signature(certificate.material(), old_key, certificate.signature, keys)
    changed = {**certificate.material(), "number": certificate.number[:-1] + "9"}
    assert not verify_signature(changed, old_key, certificate.signature, keys)


def test_private_keys_are_files_only_the_owner_can_read(signing_key, app):
    path = key_dir() / f"{signing_key.key_id}.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert init_keys() == (signing_key, False)
    path.unlink()
    with pytest.raises(NoSigningKey, match=signing_key.key_id):
        init_keys()


def test_issuing_without_a_key_says_what_to_run(final_pass):
    with pytest.raises(NoSigningKey, match="keys init"):
        services.issue_certificate(final_pass)


def test_every_issue_and_revocation_is_audited(certificate):
    services.revoke_certificate(certificate.number, "伪造材料")
    db.session.commit()
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.subject_type == "certificates")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["certificate.issued", "certificate.revoked"]
    with pytest.raises(ValidationFailed):
        services.revoke_certificate(certificate.number, "  ")


def test_cli_issue_revoke_and_keys(app, final_pass, exam):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["certificates", "issue", str(exam.id)])
    assert refused.exit_code == 1 and "keys init" in refused.output
    made = runner.invoke(args=["keys", "init"])
    assert made.exit_code == 0 and "created" in made.output
    assert "already present" in runner.invoke(args=["keys", "init"]).output
    issued = runner.invoke(args=["certificates", "issue", str(exam.id)])
    assert issued.exit_code == 0, issued.output
    number, path = issued.stdout.strip().split("\t")
    assert Path(path).read_bytes()[:5] == b"%PDF-"
    assert runner.invoke(args=["certificates", "issue", str(exam.id)]).stdout == ""
    revoked = runner.invoke(args=["certificates", "revoke", number, "--reason", "证书信息有误"])
    assert revoked.exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(sa.select(Certificate)).status is CertificateStatus.REVOKED
    missing = runner.invoke(args=["certificates", "revoke", "NOPE", "--reason", "x"])
    assert missing.exit_code == 1 and "NOPE" in missing.output
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0 and "retired" in rotated.output
