def test_healthz_reports_the_database_engine(client, app):
    response = client.get("/healthz")
    assert response.status_code == 200
    expected = "postgresql" if "postgresql" in app.config["SQLALCHEMY_DATABASE_URI"] else "sqlite"
    assert response.get_json() == {"status": "ok", "database": expected}


def test_missing_page_is_a_friendly_chinese_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "找不到这个页面" in page and "返回首页" in page


def test_missing_api_resource_answers_json(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "404"


def test_an_unexpected_error_is_a_friendly_500(client, login, monkeypatch):
    from certify.accounts.models import Role
    from certify.catalog import views
    from tests.factories import make_user

    make_user(Role.ADMIN, username="boss")
    login("boss")

    def explode():
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(views.services, "list_trades", explode)
    response = client.get("/catalog/trades")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "系统出了点问题" in page
    assert "disk on fire" not in page


def test_pages_are_mobile_first_and_load_nothing_from_other_hosts(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="viewport"' in page
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    css = client.get("/static/css/app.css")
    assert css.status_code == 200
    assert b"min-height: 44px" in css.data


def test_logins_work_while_redis_is_down(app, make_app):
    """Rate limits fall back to memory: a Redis outage must not lock everyone out."""
    from certify.accounts.models import Role
    from certify.extensions import limiter
    from tests.factories import make_user

    down = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6390/0")  # nothing listens there
    try:
        with down.app_context():
            make_user(Role.ADMIN, username="boss")
            client = down.test_client()
            response = client.post("/login", data={"login": "boss", "password": "correct-horse-7"})
            assert response.status_code == 302
    finally:
        limiter.init_app(app)  # the shared limiter back on the suite's own storage


def test_a_page_answering_405_names_the_methods_it_takes(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"] and "GET" not in response.headers["Allow"]
