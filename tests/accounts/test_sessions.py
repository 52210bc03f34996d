"""Logins and tokens end: logout, a copied cookie, DELETE /auth/token, password changes."""

import re

import pytest

from certify.accounts.models import Role
from certify.accounts.services import reset_password
from certify.extensions import db
from tests.factories import make_user

PASSWORD = "my-own-pass-1"


def _page_token(client, attempt_id: int) -> str:
    page = client.get(f"/exams/attempt/{attempt_id}").get_data(as_text=True)
    found = re.search(r'data-token="([^"]+)"', page)
    assert found, "the exam page carries its API token"
    return found.group(1)


def _start(client, worker, exam, login) -> tuple[int, str]:
    assert login(worker.id_number, PASSWORD).status_code == 302
    started = client.post(f"/exams/{exam.id}/start")
    attempt_id = int(started.headers["Location"].rsplit("/", 1)[-1])
    return attempt_id, _page_token(client, attempt_id)


def test_logging_out_revokes_the_exam_pages_token(client, worker, exam, login, frozen_clock):
    attempt_id, token = _start(client, worker, exam, login)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/exams", headers=headers).status_code == 200
    client.post("/logout")
    assert client.get("/api/v1/exams", headers=headers).status_code == 401
    answer = client.put(
        f"/api/v1/attempts/{attempt_id}/answers/1", json={"answer": ["A"]}, headers=headers
    )
    assert answer.status_code == 401  # the fast path refuses it too
    submit = client.post(f"/api/v1/attempts/{attempt_id}/submit", headers=headers)
    assert submit.status_code == 401


def test_a_cookie_copied_before_logout_stops_working(app, client, worker, exam, login):
    assert login(worker.id_number, PASSWORD).status_code == 302
    cookie = client.get_cookie("session")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("session", cookie.value)
    assert copy.get("/exams/").status_code == 200
    client.post("/logout")
    after = copy.get("/exams/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]


def test_delete_auth_token_revokes_it(client, worker):
    issued = client.post(
        "/api/v1/auth/token", json={"username": worker.id_number, "password": PASSWORD}
    ).get_json()
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/exams", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/exams", headers=headers).status_code == 401
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 401


def test_a_password_change_revokes_every_token_and_other_logins(app, client, worker, login):
    issued = client.post(
        "/api/v1/auth/token", json={"username": worker.id_number, "password": PASSWORD}
    ).get_json()
    other_pc = app.test_client()
    other_pc.post("/login", data={"login": worker.id_number, "password": PASSWORD})
    assert other_pc.get("/exams/").status_code == 200
    login(worker.id_number, PASSWORD)
    changed = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "brand-new-pass-2",
            "confirm": "brand-new-pass-2",
        },
    )
    assert changed.status_code == 302
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/exams", headers=headers).status_code == 401
    assert other_pc.get("/exams/").status_code == 302  # the other PC is logged out
    assert client.get("/exams/").status_code == 200  # the login that changed it goes on


def test_an_administrators_reset_revokes_every_token(client, worker):
    issued = client.post(
        "/api/v1/auth/token", json={"username": worker.id_number, "password": PASSWORD}
    ).get_json()
    reset_password(worker)
    db.session.commit()
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/exams", headers=headers).status_code == 401


def test_a_first_password_gets_no_api_token(client, app):
    make_user(Role.WORKER, username="fresh", password="slip-pass-9", must_change_password=True)
    response = client.post(
        "/api/v1/auth/token", json={"username": "fresh", "password": "slip-pass-9"}
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "password_change_required"


def test_exam_and_result_pages_are_never_cached(client, worker, exam, login, frozen_clock):
    attempt_id, token = _start(client, worker, exam, login)
    for path in ("/exams/", f"/exams/attempt/{attempt_id}", "/learn/"):
        assert "no-store" in client.get(path).headers["Cache-Control"], path
    paper = client.post(
        f"/api/v1/exams/{exam.id}/attempts", headers={"Authorization": f"Bearer {token}"}
    )
    assert "no-store" in paper.headers["Cache-Control"]
    client.post(f"/exams/attempt/{attempt_id}", data={"action": "submit"})
    assert "no-store" in client.get(f"/exams/attempt/{attempt_id}/done").headers["Cache-Control"]


HOSTILE_NEXT = [
    "/%09/evil.example/",
    "/\t/evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "/%5cevil.example/",
    "https://evil.example/",
    "/%0d%0aSet-Cookie:x=1",
    "/\r\nLocation: https://evil.example/",
    "/%2F%2Fevil.example/",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_a_hostile_next_never_leaves_the_site(client, worker, target):
    response = client.post(
        "/login", data={"login": worker.id_number, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/", response.headers["Location"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_in_the_query_string_is_never_a_500(client, worker, target):
    from urllib.parse import quote

    page = client.get("/login?next=" + quote(target, safe="%/:"))
    assert page.status_code == 200
    response = client.post(
        "/login?next=" + quote(target, safe="%/:"),
        data={"login": worker.id_number, "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_same_site_next_is_followed(client, worker):
    response = client.post(
        "/login", data={"login": worker.id_number, "password": PASSWORD, "next": "/learn/?a=1"}
    )
    assert response.headers["Location"] == "/learn/?a=1"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_the_language_switch_and_change_password_check_next_the_same_way(
    client, worker, login, target
):
    login(worker.id_number, PASSWORD)
    assert client.post("/language/en", data={"next": target}).headers["Location"] == "/"
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "brand-new-pass-2",
            "confirm": "brand-new-pass-2",
            "next": target,
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_exam_pages_token_is_signed_for_its_login_and_stores_nothing(
    client, worker, exam, login, frozen_clock
):
    from certify.accounts.models import ApiToken

    _attempt_id, token = _start(client, worker, exam, login)
    assert db.session.query(ApiToken).count() == 0  # showing the page wrote no token row
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/exams", headers=headers).status_code == 200
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    forged_headers = {"Authorization": f"Bearer {forged}"}
    assert client.get("/api/v1/exams", headers=forged_headers).status_code == 401
    frozen_clock.advance(hours=12, seconds=1)
    assert client.get("/api/v1/exams", headers=headers).status_code == 401  # expired


def test_a_password_change_ends_the_exam_pages_token_of_the_same_login(
    client, worker, exam, login, frozen_clock
):
    _attempt_id, token = _start(client, worker, exam, login)
    client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "brand-new-pass-2",
            "confirm": "brand-new-pass-2",
        },
    )
    assert client.get("/exams/").status_code == 200  # the login goes on
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/exams", headers=headers).status_code == 401


def test_deleting_the_exam_pages_token_logs_its_login_out(
    client, worker, exam, login, frozen_clock
):
    _attempt_id, token = _start(client, worker, exam, login)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/exams", headers=headers).status_code == 401
    assert client.get("/exams/").status_code == 302  # the page's login ended with it
