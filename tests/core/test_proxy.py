"""Behind nginx, each client is told apart by the address nginx saw; without a proxy, the
X-Forwarded-For header changes nothing.

Rate limits key on request.remote_addr. Behind the documented nginx every request comes from
nginx's address: without ProxyFix all clients share one bucket. Trusting a proxy that is not
there would let any client choose its own address, and so its own bucket, with one header.
"""

from __future__ import annotations

import pytest
from flask import jsonify, request
from flask_limiter.util import get_remote_address

from certify.config import ConfigError, load_settings

NGINX = "10.0.0.2"  # the peer the app sees behind nginx
CLIENT = "203.0.113.7"  # the phone nginx saw
OTHER = "198.51.100.9"


@pytest.fixture
def proxied_app(make_app):
    """make_app(hops) → an app trusting that many proxies, with a page that shows the peer."""

    def build(hops: int):
        app = make_app(PROXY_FIX_X_FOR=hops, VERIFY_LOOKUP_LIMIT="3 per minute")

        @app.get("/_peer")
        def peer():
            return jsonify(remote_addr=request.remote_addr, limit_key=get_remote_address())

        return app

    return build


def peer(app, forwarded_for: str | None) -> dict:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = app.test_client().get("/_peer", headers=headers, environ_base={"REMOTE_ADDR": NGINX})
    return response.get_json()


def lookups(app, forwarded_for: str, n: int) -> list[int]:
    """n public certificate lookups (a rate-limited form) from one client."""
    client = app.test_client()
    return [
        client.post(
            "/verify",
            data={"n-number": "S000000000000000000001", "n-submit": "1"},
            headers={"X-Forwarded-For": forwarded_for},
            environ_base={"REMOTE_ADDR": NGINX},
        ).status_code
        for _ in range(n)
    ]


def test_behind_one_proxy_the_client_address_comes_from_x_forwarded_for(proxied_app):
    app = proxied_app(1)
    assert peer(app, CLIENT) == {"remote_addr": CLIENT, "limit_key": CLIENT}
    # nginx appends the address it saw to whatever the client sent: only that one counts.
    assert peer(app, f"6.6.6.6, {CLIENT}")["limit_key"] == CLIENT


def test_without_a_trusted_proxy_the_header_changes_nothing(proxied_app):
    app = proxied_app(0)
    assert peer(app, CLIENT) == {"remote_addr": NGINX, "limit_key": NGINX}
    assert peer(app, None) == {"remote_addr": NGINX, "limit_key": NGINX}


def test_behind_nginx_each_client_has_its_own_budget(proxied_app):
    app = proxied_app(1)
    assert lookups(app, CLIENT, 4) == [200, 200, 200, 429]
    assert lookups(app, OTHER, 1) == [200]  # another phone behind the same nginx


def test_without_a_proxy_a_client_cannot_spoof_its_way_out_of_the_limit(proxied_app):
    app = proxied_app(0)
    assert lookups(app, CLIENT, 4) == [200, 200, 200, 429]
    assert lookups(app, OTHER, 1) == [429]


def test_hop_counts_come_from_the_environment(tmp_path):
    assert load_settings({}, tmp_path).flask_mapping()["PROXY_FIX_X_FOR"] == 0
    settings = load_settings({"PROXY_FIX_X_FOR": "1", "PROXY_FIX_X_PROTO": "1"}, tmp_path)
    mapping = settings.flask_mapping()
    assert (mapping["PROXY_FIX_X_FOR"], mapping["PROXY_FIX_X_PROTO"]) == (1, 1)


@pytest.mark.parametrize("value", ["yes", "-1", "1.5"])
def test_a_hop_count_that_is_not_a_number_is_refused(value, tmp_path):
    with pytest.raises(ConfigError, match="PROXY_FIX_X_FOR"):
        load_settings({"PROXY_FIX_X_FOR": value}, tmp_path)
