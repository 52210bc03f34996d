import re

import sqlalchemy as sa

from certify.accounts.models import Role, User
from certify.audit.models import AuditEvent
from certify.extensions import db
from tests.factories import PASSWORD, make_id, make_user


def _page(response) -> str:
    """The page as the guesser reads it. The language switch's CSRF token is signed with the
    wall-clock second, so two answers a second apart differ there and nowhere else."""
    text = response.get_data(as_text=True)
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', text)


def _user(username):
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "用户名或身份证号" in page and "考生请用身份证号登录" in page


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_login_with_username(client, login):
    make_user(Role.TRAINER, username="trainer1", name="王老师")
    response = login("trainer1", follow_redirects=True)
    assert response.status_code == 200
    assert "你好，王老师" in response.get_data(as_text=True)
    assert _user("trainer1").last_login_at is not None


def test_username_is_not_case_sensitive(client, login):
    make_user(Role.TRAINER, username="Trainer1")
    assert login("trainer1").status_code == 302


def test_worker_logs_in_with_id_number_and_lower_case_x(client, login):
    id_number = "11010519491231002X"
    make_user(Role.WORKER, username="w1", id_number=id_number, name="陈小梅")
    response = login(id_number.lower(), follow_redirects=True)
    assert response.status_code == 200
    assert "陈小梅" in response.get_data(as_text=True)


def test_wrong_password_gives_one_message_for_unknown_and_known_users(client, login):
    make_user(Role.WORKER, username="w1", id_number=make_id())
    wrong = login("w1", "not-the-password")
    unknown = login("nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "用户名、身份证号或密码不对" in response.get_data(as_text=True)


def _login_from(client, address, login_name, password):
    return client.post(
        "/login",
        data={"login": login_name, "password": password},
        environ_overrides={"REMOTE_ADDR": address},
    )


def test_five_wrong_passwords_stop_that_address_even_for_the_right_password(
    client, login, frozen_clock
):
    make_user(Role.WORKER, username="w1")
    wrong = [login("w1", "wrong-password-1") for _ in range(5)]
    assert {r.status_code for r in wrong} == {401}
    still_stopped = login("w1", PASSWORD)
    # Exactly a wrong password's answer: nothing tells the guesser the account exists.
    assert still_stopped.status_code == 401
    assert _page(still_stopped) == _page(wrong[0])
    assert "这台设备要等 15 分钟" in still_stopped.get_data(as_text=True)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "user.locked")
        )
        == 1
    )
    assert _user("w1").is_locked(frozen_clock.now())  # the office sees it and can lift it

    frozen_clock.advance(minutes=14, seconds=59)
    assert login("w1", PASSWORD).status_code == 401
    frozen_clock.advance(seconds=1)
    assert login("w1", PASSWORD).status_code == 302


def test_an_unknown_name_is_stopped_exactly_like_a_real_one(client, login, frozen_clock):
    make_user(Role.WORKER, username="w1", id_number=make_id())
    real = [login("w1", "wrong-password-1") for _ in range(6)]
    unknown = [login("nobody", "wrong-password-1") for _ in range(6)]
    assert [r.status_code for r in real] == [r.status_code for r in unknown] == [401] * 6
    pages = {_page(r) for r in real}
    pages |= {_page(r).replace('value="nobody"', 'value="w1"') for r in unknown}
    assert len(pages) == 1  # the same page, but for the name typed into the form


def test_a_stranger_elsewhere_cannot_lock_a_worker_out(client, frozen_clock):
    id_number = make_id()
    make_user(Role.WORKER, username="w1", id_number=id_number)
    for _ in range(8):
        assert _login_from(client, "203.0.113.9", id_number, "guess-123").status_code == 401
    assert _login_from(client, "203.0.113.9", id_number, PASSWORD).status_code == 401
    assert _login_from(client, "10.1.2.3", id_number, PASSWORD).status_code == 302


def test_the_office_lifts_a_stop(client, login, frozen_clock):
    from certify.accounts.services import unlock_user

    make_user(Role.WORKER, username="w1")
    for _ in range(5):
        login("w1", "wrong-password-1")
    assert login("w1", PASSWORD).status_code == 401
    unlock_user(_user("w1"))
    db.session.commit()
    assert login("w1", PASSWORD).status_code == 302


def test_a_hall_behind_one_address_logs_everyone_in(app, client, frozen_clock):
    """2,000 workers behind one NAT address within 5 minutes: successes cost no budget."""
    from werkzeug.security import generate_password_hash

    from certify.accounts.models import User as UserModel
    from tests.conftest import FAST_HASH

    digest = generate_password_hash(PASSWORD, method=FAST_HASH)
    db.session.execute(
        sa.insert(UserModel),
        [
            {"username": f"hall{i}", "name": "", "role": Role.WORKER, "password_hash": digest}
            for i in range(2000)
        ],
    )
    db.session.commit()
    statuses = set()
    for i in range(2000):
        if i % 400 == 0:
            frozen_clock.advance(minutes=1)
        response = client.post(
            "/api/v1/auth/token",
            json={"username": f"hall{i}", "password": PASSWORD},
            environ_overrides={"REMOTE_ADDR": "198.51.100.7"},
        )
        statuses.add(response.status_code)
    assert statuses == {200}
    # … while guessing one account from there is still stopped.
    guesses = [
        client.post(
            "/api/v1/auth/token",
            json={"username": "hall1", "password": "guess-123"},
            environ_overrides={"REMOTE_ADDR": "198.51.100.7"},
        ).status_code
        for _ in range(12)
    ]
    assert guesses[:5] == [401] * 5 and guesses[-1] == 429
    right = client.post(
        "/api/v1/auth/token",
        json={"username": "hall1", "password": PASSWORD},
        environ_overrides={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert right.status_code in (401, 429)


def test_a_right_password_resets_the_failure_count(client, login):
    make_user(Role.WORKER, username="w1")
    for _ in range(4):
        login("w1", "wrong-password-1")
    assert login("w1", PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert login("w1", "wrong-password-1").status_code == 401


def test_inactive_accounts_cannot_log_in(client, login):
    make_user(Role.WORKER, username="w1", active=False)
    assert login("w1").status_code == 401


def test_login_is_rate_limited_per_client_with_a_chinese_message(client, login):
    for _ in range(10):
        login("nobody", "whatever-123")
    response = login("nobody", "whatever-123")
    assert response.status_code == 429
    assert "尝试次数太多" in response.get_data(as_text=True)


def test_bulk_created_accounts_must_change_password_first(client, login):
    make_user(Role.WORKER, username="w1", must_change_password=True)
    response = login("w1")
    assert response.headers["Location"].startswith("/account/password")
    # Every other page sends them back until they have chosen a password.
    assert client.get("/").headers["Location"].startswith("/account/password")
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "my-own-pass-9",
            "confirm": "my-own-pass-9",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert not _user("w1").must_change_password
    client.post("/logout")
    assert login("w1", "my-own-pass-9").status_code == 302


def test_weak_new_passwords_are_refused_with_reasons(client, login):
    user = make_user(Role.WORKER, username="w1", id_number=make_id(), must_change_password=True)
    login("w1")
    for new, reason in [
        ("short1", "至少 8 位"),
        ("12345678", "太容易被猜到"),
        (user.id_number, "不要用用户名、身份证号或手机号做密码"),
        (PASSWORD, "新密码不能和旧密码一样"),
    ]:
        page = client.post(
            "/account/password",
            data={"current_password": PASSWORD, "new_password": new, "confirm": new},
        ).get_data(as_text=True)
        assert reason in page, new
    mismatch = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "abcd-1234-x", "confirm": "other-1"},
    ).get_data(as_text=True)
    assert "两次输入的新密码不一样" in mismatch
    assert _user("w1").must_change_password


def test_logout_needs_a_post_and_ends_the_session(client, login):
    make_user(Role.WORKER, username="w1")
    login("w1")
    assert client.get("/logout").status_code == 405
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_redirect_after_login_stays_on_this_site(client, login):
    make_user(Role.ADMIN, username="boss")
    response = client.post(
        "/login", data={"login": "boss", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post(
        "/login", data={"login": "boss", "password": PASSWORD, "next": "/catalog/trades"}
    )
    assert response.headers["Location"] == "/catalog/trades"


def test_password_hash_uses_scrypt_by_default(app):
    from certify.config import load_settings

    assert load_settings({"CERTIFY_ENV": "testing"}).password_hash_method == "scrypt"
    user = User(username="x", role=Role.WORKER)
    user.set_password("a-long-password-1")
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("a-long-password-1")
    assert not user.check_password("a-long-password-2")
