"""Every state-changing route refuses a post without the form's CSRF token (400), except the
JSON API, which is exempt by design: it reads only a bearer token from the Authorization
header, never the login cookie, and a page on another site cannot set that header without a
CORS preflight that the API never grants (only the public GET verify answers CORS).

The login form itself is covered by tests/core/test_csrf.py."""

import re

import pytest

from certify.catalog.models import Trade
from certify.extensions import db
from tests.factories import PASSWORD
from tests.security.access import fill, rule_keys, url_args
from tests.security.conftest import OWNER_PASSWORD

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT_PREFIX = "/api/v1/"  # bearer token only: see the module docstring


@pytest.fixture
def protected(make_app, world):
    """The app as in production: CSRF on. Same database, so `world` is there."""
    return make_app(WTF_CSRF_ENABLED=True)


def _token(page: str) -> str:
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)


def _log_in(client, username: str, password: str = PASSWORD) -> None:
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"login": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302


def test_every_form_post_without_a_token_is_refused(protected, world):
    client = protected.test_client()
    _log_in(client, "boss")  # the admin: the most a forged request could do
    refused, let_through = 0, []
    for key, method, endpoint in rule_keys(protected):
        if method not in STATE_CHANGING:
            continue
        url = fill(key.split(" ", 1)[1], url_args(world, endpoint))
        if url.startswith(EXEMPT_PREFIX):
            continue
        response = client.open(url, method=method, data={"anything": "1"})
        if response.status_code != 400:
            let_through.append(f"{key} → {response.status_code}")
            continue
        assert "页面已过期" in response.get_data(as_text=True), key  # "the form expired"
        refused += 1
    assert not let_through, "State-changing routes without CSRF protection:\n" + "\n".join(
        let_through
    )
    assert refused > 50
    db.session.expire_all()
    assert db.session.get(Trade, world.trade.id) is not None  # POST .../delete did nothing


def test_the_api_ignores_the_login_cookie(protected, world):
    """Why the API may be exempt: a logged-in browser gets nothing from it without a token."""
    client = protected.test_client()
    _log_in(client, world.owner.username, OWNER_PASSWORD)
    for method, path in (
        ("GET", "/api/v1/exams"),
        ("POST", f"/api/v1/attempts/{world.attempt.id}/submit"),
        ("GET", f"/api/v1/attempts/{world.attempt.id}/result"),
    ):
        response = client.open(path, method=method, json={})
        assert response.status_code == 401, path
    preflight = client.options(
        f"/api/v1/attempts/{world.attempt.id}/submit",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_a_token_from_the_page_lets_the_form_through(protected, world):
    client = protected.test_client()
    _log_in(client, "boss")
    page = client.get("/notifications/").get_data(as_text=True)
    response = client.post("/notifications/read", data={"csrf_token": _token(page)})
    assert response.status_code == 302
