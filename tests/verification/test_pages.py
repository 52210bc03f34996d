"""The public page the QR code opens: one verdict, masked facts, JSON on request."""

import io

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certify.certificates.services import reissue_certificate, revoke_certificate
from certify.certificates.signing import (
    b64url,
    canonical,
    rotate_keys,
    sign_material,
    signature_param,
)
from certify.core import clock
from certify.extensions import db
from tests.verification.conftest import CONTRACT_KEYS


def verdict_of(response) -> str:
    html = response.get_data(as_text=True)
    start = html.index('data-verdict="') + len('data-verdict="')
    return html[start : html.index('"', start)]


def signed_path(number: str, sig: str) -> str:
    return f"/v/{number}?sig={sig}"


def test_the_qr_code_opens_a_valid_verdict(client, certificate, qr_link):
    assert qr_link == signed_path(
        certificate.number, signature_param(certificate.key_id, certificate.signature)
    )
    response = client.get(qr_link)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert verdict_of(response) == "valid"
    assert "verdict-pending" in html  # issued, not yet endorsed: amber, not green
    assert "signature-note checked" in html
    assert certificate.number in html and certificate.trade_name in html
    assert "2026年11月23日" in html  # issued_on, in Chinese, in Asia/Shanghai
    assert response.headers["Cache-Control"] == "no-store"


def test_an_endorsed_certificate_is_green_with_the_body_and_date(client, certificate, qr_link):
    certificate.submit(clock.now())
    certificate.endorse("温州市人力资源和社会保障局", clock.now())
    db.session.commit()
    html = client.get(qr_link).get_data(as_text=True)
    assert "verdict-ok" in html and "温州市人力资源和社会保障局" in html
    body = client.get(qr_link, headers={"Accept": "application/json"}).get_json()
    assert body["verdict"] == "valid" and body["endorsed"] is True
    assert body["endorsed_by"] == "温州市人力资源和社会保障局"
    assert body["endorsed_on"] == "2026-11-23"


def test_english_dates_and_text(client, qr_link):
    html = client.get(qr_link + "&lang=en").get_data(as_text=True)
    assert "November 23, 2026" in html
    assert "Genuine certificate, endorsement pending" in html


def test_the_full_name_and_id_number_never_leave(client, certificate, qr_link):
    name, id_number = certificate.holder_name, certificate.id_number
    assert len(name) == 3
    html = client.get(qr_link).get_data(as_text=True)
    body = client.get(qr_link, headers={"Accept": "application/json"}).get_data(as_text=True)
    api = client.get(f"/api/v1/certificates/{certificate.number}/verify?{qr_link.split('?')[1]}")
    for text in (html, body, api.get_data(as_text=True)):
        assert name not in text and id_number not in text
        assert id_number[6:-4] not in text  # not even the birth date
    masked_id = id_number[:6] + "*" * 8 + id_number[-4:]
    assert f"{name[0]}*{name[-1]}" in html and masked_id in html
    assert client.get(qr_link, headers={"Accept": "application/json"}).get_json() == {
        **api.get_json()
    }
    assert api.get_json()["holder"] == f"{name[0]}*{name[-1]}"
    assert api.get_json()["id_number"] == masked_id


def test_json_by_accept_header_has_the_contract_keys(client, certificate, qr_link):
    response = client.get(qr_link, headers={"Accept": "application/json"})
    assert response.is_json and "Accept" in response.headers["Vary"]
    body = response.get_json()
    assert set(body) >= CONTRACT_KEYS
    assert body["verdict"] == "valid" and body["endorsed"] is False
    assert body["endorsed_by"] is None and body["endorsed_on"] is None
    assert body["number"] == certificate.number
    assert body["trade"] == certificate.trade_name and body["level"] == certificate.level_name
    assert body["issued_on"] == "2026-11-23"
    assert body["signature_checked"] is True
    # A browser's Accept header still gets the page.
    browser = client.get(qr_link, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.mimetype == "text/html"


def test_the_api_answers_the_same_object(client, certificate, qr_link):
    query = qr_link.split("?", 1)[1]
    response = client.get(f"/api/v1/certificates/{certificate.number}/verify?{query}")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    assert set(body) >= CONTRACT_KEYS
    assert body == client.get(qr_link, headers={"Accept": "application/json"}).get_json()


@pytest.mark.parametrize("where", ["page", "api"])
def test_not_found_is_a_verdict_with_nulls(client, certificate, where):
    url = (
        "/v/S000000000000000000099"
        if where == "page"
        else ("/api/v1/certificates/S000000000000000000099/verify")
    )
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["verdict"] == "not_found" and body["number"] == "S000000000000000000099"
    assert body["endorsed"] is False
    assert all(body[key] is None for key in CONTRACT_KEYS - {"verdict", "endorsed", "number"})
    page = client.get("/v/S000000000000000000099")
    assert verdict_of(page) == "not_found"


def test_without_a_signature_the_page_says_it_was_not_checked(client, certificate):
    response = client.get(f"/v/{certificate.number}")
    assert verdict_of(response) == "valid"
    assert "signature-note unchecked" in response.get_data(as_text=True)
    body = client.get(f"/v/{certificate.number}", headers={"Accept": "application/json"})
    assert body.get_json()["signature_checked"] is False


def _assert_invalid(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert verdict_of(response) == "invalid"
    html = response.get_data(as_text=True)
    assert "verify-facts" not in html and "pdf-check" not in html  # no holder data at all
    body = client.get(path, headers={"Accept": "application/json"}).get_json()
    assert body["verdict"] == "invalid"
    assert all(body[key] is None for key in CONTRACT_KEYS - {"verdict", "endorsed", "number"})
    return html


def test_a_changed_number_is_invalid(client, certificate, qr_link):
    sig = qr_link.split("sig=", 1)[1]
    number = certificate.number
    changed = number[:-1] + ("2" if number[-1] != "2" else "3")
    html = _assert_invalid(client, signed_path(changed, sig))
    assert certificate.trade_name not in html


def test_a_signature_swapped_from_another_certificate_is_invalid(client, certificate, qr_link):
    old_sig = qr_link.split("sig=", 1)[1]
    other = reissue_certificate(certificate, "姓名写错")
    db.session.commit()
    new_sig = signature_param(other.key_id, other.signature)
    assert verdict_of(client.get(signed_path(other.number, new_sig))) == "valid"
    _assert_invalid(client, signed_path(certificate.number, new_sig))
    _assert_invalid(client, signed_path(other.number, old_sig))


def test_a_signature_over_other_fields_is_invalid(client, certificate):
    key_id, signature = sign_material({**certificate.material(), "level": "一级/高级技师"})
    _assert_invalid(client, signed_path(certificate.number, signature_param(key_id, signature)))


def test_an_unknown_key_id_is_invalid(client, certificate):
    _assert_invalid(
        client, signed_path(certificate.number, signature_param("kffffff", certificate.signature))
    )


@pytest.mark.parametrize("claimed_key", ["ours", "theirs"])
def test_a_real_ed25519_signature_by_a_foreign_key_is_invalid(client, certificate, claimed_key):
    foreign = Ed25519PrivateKey.generate()
    signature = b64url(foreign.sign(canonical(certificate.material())))
    key_id = certificate.key_id if claimed_key == "ours" else "kabc123"
    _assert_invalid(client, signed_path(certificate.number, signature_param(key_id, signature)))


@pytest.mark.parametrize(
    "sig", ["nodot", "a.b.c", ".x", "kabc.", "kabc.!!!not-base64!!!", "kabc." + "A" * 500]
)
def test_malformed_signatures_are_invalid_not_errors(client, certificate, sig):
    _assert_invalid(client, signed_path(certificate.number, sig))


def test_a_revoked_certificate_shows_revoked_with_reason_and_date(client, certificate, qr_link):
    revoke_certificate(certificate.number, "考试作弊，经查属实", code="improperly_obtained")
    db.session.commit()
    response = client.get(qr_link)
    assert verdict_of(response) == "revoked"
    html = response.get_data(as_text=True)
    assert "违规取得" in html and "2026年11月23日" in html
    body = client.get(qr_link, headers={"Accept": "application/json"}).get_json()
    assert body["verdict"] == "revoked" and body["endorsed"] is False
    assert body["revoked_reason"] == "违规取得" and body["revoked_on"] == "2026-11-23"
    assert body["revoked_reason_code"] == "improperly_obtained"
    api = client.get(f"/api/v1/certificates/{certificate.number}/verify").get_json()
    assert api["revoked_reason"] == "违规取得"
    english = client.get(f"/v/{certificate.number}?lang=en").get_data(as_text=True)
    assert "Obtained improperly" in english
    # The office's own words are internal: not on the page, in the JSON or the API.
    for text in (html, str(body), str(api), english):
        assert "考试作弊" not in text
    assert body["holder"]  # a revoked certificate is shown, masked, never "not found"
    # The register-only lookup agrees.
    assert verdict_of(client.get(f"/v/{certificate.number}")) == "revoked"


def test_a_superseded_certificate_is_revoked_and_names_its_successor(client, certificate, qr_link):
    new = reissue_certificate(certificate, "身份证号录入错误")
    db.session.commit()
    body = client.get(qr_link, headers={"Accept": "application/json"}).get_json()
    assert body["verdict"] == "revoked"
    assert body["revoked_reason"] == "信息有误已更正" and body["superseded_by"] == new.number
    assert body["revoked_reason_code"] == "corrected" and "身份证号" not in str(body)
    html = client.get(qr_link).get_data(as_text=True)
    assert new.number in html


def test_a_rejected_certificate_is_rejected(client, certificate, qr_link):
    certificate.submit(clock.now())
    certificate.reject("材料不全", clock.now())
    db.session.commit()
    response = client.get(qr_link)
    assert verdict_of(response) == "rejected" and "材料不全" in response.get_data(as_text=True)


def test_an_old_certificate_still_verifies_after_a_key_rotation(client, certificate, qr_link):
    new, old = rotate_keys()
    db.session.commit()
    assert old.key_id == certificate.key_id and new.key_id != old.key_id
    assert verdict_of(client.get(qr_link)) == "valid"
    kids = {key["kid"] for key in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert kids == {old.key_id, new.key_id}


def test_the_jwks_is_public_cacheable_and_cors_open(client, signing_key):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200 and response.is_json
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.cache_control.max_age == 300
    (key,) = response.get_json()["keys"]
    assert key["kid"] == signing_key.key_id and key["kty"] == "OKP" and key["crv"] == "Ed25519"
    assert key["x"] == signing_key.public_key
    assert "d" not in key  # never the private half


def test_the_pages_need_no_login_and_work_on_a_phone(client, qr_link):
    html = client.get(qr_link).get_data(as_text=True)
    assert 'name="viewport"' in html and "<script" not in html.split("</head>")[1]
    html = client.get("/verify").get_data(as_text=True)
    assert 'name="n-number"' in html and 'name="h-id_number"' in html


# --- the upload check -------------------------------------------------------------------


def _upload(client, certificate, data: bytes, sig: str = ""):
    return client.post(
        f"/v/{certificate.number}/pdf?lang=en",
        data={"pdf": (io.BytesIO(data), "certificate.pdf"), "sig": sig},
        content_type="multipart/form-data",
    )


def test_the_issued_pdf_is_recognised_byte_for_byte(client, certificate, qr_link):
    from certify.certificates.services import read_pdf

    sig = qr_link.split("sig=", 1)[1]
    response = _upload(client, certificate, read_pdf(certificate), sig)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "pdf-same" in html and "pdf-differs" not in html
    assert verdict_of(response) == "valid" and "signature-note checked" in html


def test_one_changed_byte_is_caught(client, certificate):
    from certify.certificates.services import read_pdf

    data = bytearray(read_pdf(certificate))
    data[len(data) // 2] ^= 0x01
    html = _upload(client, certificate, bytes(data)).get_data(as_text=True)
    assert "pdf-differs" in html and "pdf-same" not in html


def test_uploads_must_be_a_pdf_and_small(client, certificate, monkeypatch):
    response = _upload(client, certificate, b"GIF89a not a pdf")
    assert response.status_code == 422 and "This is not a PDF file" in response.get_data(
        as_text=True
    )
    big = b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024)
    response = _upload(client, certificate, big)
    assert response.status_code == 422
    assert "larger than 5 MB" in response.get_data(as_text=True)
    response = client.post(
        f"/v/{certificate.number}/pdf?lang=en", data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="pdf-error-' in html and "PDF file." in html


def test_an_upload_for_an_unknown_number_says_not_found(client, signing_key):
    response = client.post(
        "/v/NOPE123/pdf",
        data={"pdf": (io.BytesIO(b"%PDF-1.7 x"), "c.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and verdict_of(response) == "not_found"


@pytest.mark.parametrize("number", ["%00", "A%00B", "%E4%B8%AD%E6%96%87", "x" * 300])
@pytest.mark.parametrize("sig", ["", "?sig=kabc.%00", "?sig=k%C3%A9.%C3%A9", "?sig=%00.%00"])
def test_odd_input_gets_a_verdict_never_an_error(client, signing_key, number, sig):
    response = client.get(f"/v/{number}{sig}", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.get_json()["verdict"] == ("not_found" if not sig else "invalid")


def test_the_openapi_document_describes_the_endpoint(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    operation = paths["/certificates/{number}/verify"]["get"]
    assert operation["security"] == []
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert set(schema["Verification"]["required"]) == CONTRACT_KEYS
