"""Rate limits that guess-and-try attacks meet. Covered elsewhere, not repeated here:

- the login form: tests/accounts/test_login.py
  (test_login_is_rate_limited_per_client_with_a_chinese_message)
- the certificate page without a signature, the lookup by number (and by name + ID number:
  the same route and budget) and the JSON verify API: tests/verification/test_rate_limits.py
"""

import pytest


@pytest.fixture
def small_budgets(app, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_LOOKUP_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    return 3


def test_the_pdf_check_is_limited_on_its_own(client, small_budgets):
    """Uploading file after file is a lookup too (the number is in the address)."""
    url = "/v/S000033030001265000001/pdf"
    for _ in range(small_budgets):
        response = client.post(url, data={}, content_type="multipart/form-data")
        assert response.status_code == 200  # "no such certificate": nothing to compare
    response = client.post(url, data={}, content_type="multipart/form-data")
    assert response.status_code == 429
    assert response.headers.get("Retry-After")


def test_the_api_token_endpoint_is_limited_like_the_login_form(client, small_budgets):
    body = {"username": "nobody", "password": "guess"}
    for _ in range(small_budgets):
        assert client.post("/api/v1/auth/token", json=body).status_code == 401
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 429
    assert response.is_json and response.get_json()["error"]["code"]
    # The form and the API keep separate budgets, each as small as the login limit.
    assert client.post("/login", data={"login": "nobody", "password": "guess"}).status_code == 401
