"""The lookup form: by number, or by name + ID number; never a list of other people."""

from certify.verification.services import lookup_by_holder, verify_certificate


def _verdicts(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('data-verdict="')[1:]]


def test_lookup_by_number_answers_from_the_register(client, certificate):
    data = {"n-number": f"  {certificate.number.lower()} ", "n-submit": "1"}
    response = client.post("/verify", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _verdicts(html) == ["valid"]
    assert "signature-note unchecked" in html and certificate.number in html
    assert certificate.holder_name not in html and certificate.id_number not in html


def test_lookup_by_an_unknown_number_says_not_found(client, certificate):
    html = client.post("/verify", data={"n-number": "S1", "n-submit": "1"}).get_data(as_text=True)
    assert _verdicts(html) == ["not_found"]


def test_lookup_by_name_and_id_shows_only_that_persons_certificates(client, certificate):
    data = {
        "h-name": certificate.holder_name,
        "h-id_number": " " + certificate.id_number.lower() + " ",
        "h-submit": "1",
    }
    html = client.post("/verify", data=data).get_data(as_text=True)
    assert _verdicts(html) == ["valid"]
    assert certificate.number in html
    assert certificate.holder_name not in html and certificate.id_number not in html


def test_a_wrong_pair_finds_nothing(client, certificate):
    for name, id_number in [
        (certificate.holder_name, "330302197501050000"),
        ("王五", certificate.id_number),
        (certificate.holder_name[:1], certificate.id_number[:6]),
    ]:
        html = client.post(
            "/verify", data={"h-name": name, "h-id_number": id_number, "h-submit": "1"}
        ).get_data(as_text=True)
        assert _verdicts(html) == ["not_found"], (name, id_number)
        assert certificate.number not in html


def test_empty_forms_say_what_is_missing(client, signing_key):
    response = client.post("/verify?lang=en", data={"n-number": "", "n-submit": "1"})
    assert response.status_code == 422
    assert "Type the certificate number." in response.get_data(as_text=True)
    response = client.post("/verify?lang=en", data={"h-name": "张三", "h-submit": "1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="h-id_number-error"' in html and "ID number." in html
    response = client.post("/verify", data={"n-number": "X" * 500, "n-submit": "1"})
    assert response.status_code == 422


def test_lookup_by_holder_lists_newest_first(certificate, frozen_clock):
    from certify.certificates.services import reissue_certificate
    from certify.extensions import db

    frozen_clock.advance(minutes=5)
    new = reissue_certificate(certificate, "更正")
    db.session.commit()
    found = lookup_by_holder(certificate.holder_name, certificate.id_number)
    assert [v.number for v in found] == [new.number, certificate.number]
    assert [str(v.verdict) for v in found] == ["valid", "revoked"]
    assert lookup_by_holder("", certificate.id_number) == []
    assert lookup_by_holder(certificate.holder_name, "") == []


def test_verify_certificate_without_a_signature(certificate):
    verification = verify_certificate(certificate.number, None)
    assert verification.verdict == "valid" and not verification.signature_checked
    assert verification.facts.holder != certificate.holder_name


def test_control_characters_find_nothing(client, certificate):
    name = certificate.holder_name
    assert lookup_by_holder(name + "\x00", certificate.id_number) == []
    data = {"h-name": name, "h-id_number": "\x00" + certificate.id_number, "h-submit": "1"}
    assert _verdicts(client.post("/verify", data=data).get_data(as_text=True)) == ["not_found"]


def test_the_forms_work_with_csrf_protection_on(make_app, app, certificate):
    import io
    import re

    from certify.certificates.services import read_pdf

    protected = make_app(WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    page = client.get("/verify").get_data(as_text=True)
    token = re.search(r'name="n-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/verify", data={"n-number": certificate.number}).status_code == 400
    data = {"n-number": certificate.number, "n-submit": "1", "n-csrf_token": token}
    html = client.post("/verify", data=data).get_data(as_text=True)
    assert _verdicts(html) == ["valid"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post(
        f"/v/{certificate.number}/pdf",
        data={"pdf": (io.BytesIO(read_pdf(certificate)), "c.pdf"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert "pdf-same" in response.get_data(as_text=True)
