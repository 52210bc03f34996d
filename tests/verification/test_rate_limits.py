"""Numbers are sequential: unsigned lookups share one budget; the QR link stays free."""

import pytest


def test_unsigned_page_hits_are_limited(client, certificate, lookup_limit):
    for _ in range(lookup_limit):
        assert client.get(f"/v/{certificate.number}").status_code == 200
    response = client.get(f"/v/{certificate.number}")
    assert response.status_code == 429
    assert "尝试次数太多" in response.get_data(as_text=True)  # the page is in Chinese
    assert response.headers.get("Retry-After")
    # Another number is no way round it.
    assert client.get("/v/S000000000000000000002").status_code == 429


def test_signed_hits_are_never_limited_nor_counted(client, certificate, qr_link, lookup_limit):
    for _ in range(lookup_limit * 3):
        assert client.get(qr_link).status_code == 200
    for _ in range(lookup_limit):
        assert client.get(f"/v/{certificate.number}").status_code == 200
    assert client.get(f"/v/{certificate.number}").status_code == 429
    assert client.get(qr_link).status_code == 200  # the QR code still works after the limit
    api = f"/api/v1/certificates/{certificate.number}/verify?{qr_link.split('?', 1)[1]}"
    assert client.get(api).status_code == 200


def test_bad_signatures_count_against_the_budget(client, certificate, lookup_limit):
    for i in range(lookup_limit):
        assert client.get(f"/v/{certificate.number}?sig=k{i}.AAAA").status_code == 200
    assert client.get(f"/v/{certificate.number}?sig=kx.AAAA").status_code == 429


def test_lookups_uploads_and_the_api_share_one_budget(client, certificate, lookup_limit):
    assert client.get("/verify").status_code == 200  # showing the form is free
    client.post("/verify", data={"n-number": certificate.number, "n-submit": "1"})
    client.get(f"/api/v1/certificates/{certificate.number}/verify")
    client.post(f"/v/{certificate.number}/pdf", data={}, content_type="multipart/form-data")
    response = client.post("/verify", data={"n-number": certificate.number, "n-submit": "1"})
    assert response.status_code == 429
    api = client.get(f"/api/v1/certificates/{certificate.number}/verify")
    assert api.status_code == 429 and api.is_json
    assert client.get("/verify").status_code == 200


@pytest.mark.parametrize("accept", ["application/json"])
def test_the_limit_answers_json_when_json_was_asked_for(client, certificate, lookup_limit, accept):
    for _ in range(lookup_limit):
        client.get(f"/v/{certificate.number}", headers={"Accept": accept})
    response = client.get(f"/v/{certificate.number}", headers={"Accept": accept})
    assert response.status_code == 429 and response.get_json()["error"]["code"]


def test_the_default_budget_comes_from_the_config(app, client, certificate):
    assert app.config["VERIFY_LOOKUP_LIMIT"] == "20 per minute;200 per day"
    statuses = [client.get(f"/v/{certificate.number}").status_code for _ in range(21)]
    assert statuses == [200] * 20 + [429]


def test_an_empty_setting_falls_back_to_the_one_default(app, monkeypatch):
    from certify.config import DEFAULT_LOOKUP_LIMIT, ISSUER_DEFAULTS
    from certify.verification.limits import lookup_limit_value

    monkeypatch.setitem(app.config, "VERIFY_LOOKUP_LIMIT", "")
    assert lookup_limit_value() == DEFAULT_LOOKUP_LIMIT == ISSUER_DEFAULTS["VERIFY_LOOKUP_LIMIT"]
