import re

from certify.accounts.models import Role
from tests.factories import PASSWORD, make_user


def test_forms_without_a_csrf_token_are_refused_with_a_clear_page(make_app, app):
    protected = make_app(WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    with protected.app_context():
        make_user(Role.WORKER, username="w1")
    response = client.post("/login", data={"login": "w1", "password": PASSWORD})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"login": "w1", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
