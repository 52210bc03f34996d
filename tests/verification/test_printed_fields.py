"""The signature covers what is printed (payload v2), and `certificates verify` compares the
page's text with it; old v1 certificates keep verifying under their version."""

import io
import json

import pypdf
import pytest
import sqlalchemy as sa

from certify.catalog.models import CertificateType
from certify.certificates import services
from certify.certificates.face import compare_face
from certify.certificates.models import V1_KEYS, V2_KEYS, Certificate
from certify.certificates.render import PAYLOAD_NAME, page_html
from certify.certificates.services import issue_certificate, pdf_path, read_pdf, verify_url
from certify.certificates.signing import LABELS, canonical, public_keys, verify_signature
from certify.core.pdf import render_pdf
from certify.extensions import db
from certify.verification import offline
from tests.certificates.conftest import pass_everyone
from tests.verification.test_offline import jwks_server, verify  # noqa: F401


@pytest.fixture
def scored(final_pass, signing_key):
    """A certificate whose practical part scored 85, as in the forger's story."""
    final_pass.practical_hundredths = 8500
    certificate = issue_certificate(final_pass)
    db.session.commit()
    return certificate


def attachment(data: bytes) -> dict:
    return json.loads(pypdf.PdfReader(io.BytesIO(data)).attachments[PAYLOAD_NAME][0])


def forge(tmp_path, genuine: Certificate, face: dict, name="forged.pdf"):
    """A page printed from `face`, carrying `genuine`'s signed payload, untouched."""
    page = render_pdf(page_html(face, genuine.key_id, verify_url(genuine)))
    writer = pypdf.PdfWriter()
    writer.append(pypdf.PdfReader(io.BytesIO(page)))
    payload = pypdf.PdfReader(io.BytesIO(read_pdf(genuine))).attachments[PAYLOAD_NAME][0]
    writer.add_attachment(PAYLOAD_NAME, payload)
    path = tmp_path / name
    with path.open("wb") as handle:
        writer.write(handle)
    return path


@pytest.fixture
def register_down(monkeypatch):
    """The database cannot be reached (the keys come from the published JWKS)."""

    def unreachable(number):
        raise sa.exc.OperationalError("SELECT", {}, OSError("connection refused"))

    monkeypatch.setattr(offline, "find_certificate", unreachable)


@pytest.fixture
def published(client, jwks_server):  # noqa: F811
    url, documents = jwks_server
    documents[0] = client.get("/.well-known/jwks.json").get_json()
    return url


# --- what is signed ----------------------------------------------------------------------


def test_new_certificates_sign_every_printed_field(scored):
    assert scored.payload_version == 2
    material = scored.material()
    assert tuple(material) == V2_KEYS
    assert material["practical"] == "85.0" and material["theory"] == "100.0"
    assert material["certificate_type"] == "level" and material["work_type"] is None
    assert material["photo_sha256"] is None and material["payload_version"] == 2
    payload = attachment(read_pdf(scored))
    assert payload["type"] == "certify-certificate-v2" and payload["material"] == material
    keys = public_keys()
    assert verify_signature(material, scored.key_id, scored.signature, keys)
    for field, value in [
        ("practical", "95.0"),
        ("theory", "60.0"),
        ("work_type", "叉车司机"),
        ("certificate_type", "special"),
        ("photo_sha256", "0" * 64),
    ]:
        assert not verify_signature(
            {**material, field: value}, scored.key_id, scored.signature, keys
        )


def test_a_v2_signature_cannot_pass_as_a_v1_one(scored):
    """The label differs per version: the identity fields alone do not verify."""
    keys = public_keys()
    assert not verify_signature(scored.material(1), scored.key_id, scored.signature, keys)


def test_the_page_prints_exactly_the_signed_fields(scored):
    text = pypdf.PdfReader(io.BytesIO(read_pdf(scored))).pages[0].extract_text()
    assert compare_face(scored.material(), text) == []
    assert "操作技能 85.0" in text or "操作技能85.0" in text.replace(" ", "")
    assert compare_face({**scored.material(), "practical": "95.0"}, text)[0].field == "practical"


# --- the verify command reads the page back ----------------------------------------------


def test_an_edited_practical_score_is_refused_naming_the_field(app, scored, tmp_path):
    forged = forge(tmp_path, scored, {**scored.material(), "practical": "95.0"})
    result = verify(app, forged, "--offline")
    assert result.exit_code == 1, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("无效 MISMATCH") and "操作技能成绩 practical score" in first
    assert "printed「95.0」" in result.output and "signed「85.0」" in result.output


def test_an_edited_score_is_refused_without_the_register_too(
    app, scored, tmp_path, register_down, published
):
    """The case that used to pass as "VALID (signature only)" with exit 0."""
    forged = forge(tmp_path, scored, {**scored.material(), "practical": "95.0"})
    result = verify(app, forged, "--keys-url", published)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("无效 MISMATCH") and "practical" in result.output


def test_another_persons_page_over_a_genuine_payload_is_refused(
    app, cohort, exam, trade, frozen_clock, signing_key, tmp_path, register_down, published
):
    pass_everyone(cohort, exam, trade, frozen_clock, more=1)
    mine, theirs = (issue_certificate(r) for r in services.eligible_results(exam))
    db.session.commit()
    forged = forge(tmp_path, genuine=mine, face=theirs.material())
    result = verify(app, forged, "--keys-url", published)
    assert result.exit_code == 1, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("无效 MISMATCH")
    assert "姓名 name" in first and "证件号码 ID number" in first and "证书编号 number" in first
    for person in (mine, theirs):  # masked here too
        assert person.holder_name not in result.output
        assert person.id_number not in result.output


def test_a_second_page_is_not_read_as_the_certificate(app, scored, tmp_path):
    writer = pypdf.PdfWriter()
    writer.append(pypdf.PdfReader(io.BytesIO(read_pdf(scored))))
    writer.add_blank_page()
    path = tmp_path / "two.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    result = verify(app, path, "--offline")
    assert result.exit_code == 1 and "Printed text" in result.output


def test_without_the_register_only_the_signature_was_checked_and_it_exits_3(
    app, scored, register_down, published
):
    result = verify(app, pdf_path(scored), "--keys-url", published)
    assert result.exit_code == 3, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("只核对了签名 SIGNATURE ONLY") and "VALID" not in first
    assert "没有核对证书是否已撤销" in first
    assert "印面文字 Printed text：和签名的内容一致" in result.output


def test_a_genuine_special_certificate_verifies(app, final_pass, signing_key, trade):
    trade.certificate_type = CertificateType.SPECIAL
    certificate = issue_certificate(final_pass)
    db.session.commit()
    result = verify(app, pdf_path(certificate), "--offline")
    assert result.exit_code == 0, result.output
    assert certificate.material()["certificate_type"] == "special"


# --- version 1 certificates keep verifying -----------------------------------------------


@pytest.fixture
def old_certificate(final_pass, signing_key, monkeypatch):
    """A certificate signed as before issue 15: the identity fields under the v1 label."""
    monkeypatch.setattr(services, "PAYLOAD_VERSION", 1)
    certificate = issue_certificate(final_pass)
    db.session.commit()
    return certificate


def test_v1_signs_the_same_bytes_as_before(old_certificate):
    material = old_certificate.material()
    assert old_certificate.payload_version == 1 and tuple(material) == V1_KEYS
    legacy = (
        b"certify-certificate-v1\n"
        + json.dumps(
            {
                "number": old_certificate.number,
                "holder": old_certificate.holder_name,
                "id_type": old_certificate.id_type,
                "id_number": old_certificate.id_number,
                "trade": old_certificate.trade_name,
                "level": old_certificate.level_name,
                "issuer": old_certificate.issuer_name,
                "issued_on": old_certificate.issued_on.isoformat(),
            },
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
    )
    assert canonical(material) == legacy and LABELS[1] == b"certify-certificate-v1\n"
    assert attachment(read_pdf(old_certificate))["type"] == "certify-certificate-v1"


def test_a_v1_certificate_still_verifies_everywhere(app, client, old_certificate):
    result = verify(app, pdf_path(old_certificate), "--offline")
    assert result.exit_code == 0, result.output
    assert "v1" in result.output and "scores and type of work are not signed" in result.output
    path = verify_url(old_certificate).removeprefix(app.config["BASE_URL"])
    body = client.get(path, headers={"Accept": "application/json"}).get_json()
    assert body["verdict"] == "valid" and body["signature_checked"] is True
    api = client.get(f"/api/v1/certificates/{old_certificate.number}/verify?{path.split('?')[1]}")
    assert api.get_json()["verdict"] == "valid"


def test_a_v1_certificate_under_another_persons_page_is_refused(
    app, old_certificate, tmp_path, register_down, published
):
    """v1 did not sign the scores, but it did sign the name: that is still compared."""
    forged = forge(tmp_path, old_certificate, {**old_certificate.material(2), "holder": "李四"})
    result = verify(app, forged, "--keys-url", published)
    assert result.exit_code == 1 and "姓名 name" in result.output.splitlines()[0]
