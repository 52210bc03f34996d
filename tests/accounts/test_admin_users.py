import re

import sqlalchemy as sa

from certify.accounts.models import Role, User
from certify.audit.models import AuditEvent
from certify.extensions import db
from tests.factories import make_id, make_trade, make_user


def _user(username):
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_admin_creates_an_account_and_sees_its_first_password_once(client, login):
    make_user(Role.ADMIN, username="boss")
    make_trade("warehouse-keeper")
    login("boss")
    id_number = make_id()
    response = client.post(
        "/admin/users/new",
        data={
            "username": "li.examiner",
            "name": "李考评",
            "role": "examiner",
            "id_number": id_number,
            "trades": ["warehouse-keeper"],
            "active": "y",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "李考评 的初始密码" in page
    password = re.search(r'class="mono big">([a-z0-9]+)<', page).group(1)
    user = _user("li.examiner")
    assert user.must_change_password and user.role is Role.EXAMINER
    assert [t.code for t in user.trades] == ["warehouse-keeper"]
    assert id_number not in page  # masked even here
    client.post("/logout")
    response = login("li.examiner", password)
    assert response.headers["Location"].startswith("/account/password")


def test_admin_form_reports_each_bad_field_and_saves_nothing(client, login):
    make_user(Role.ADMIN, username="boss")
    login("boss")
    page = client.post(
        "/admin/users/new",
        data={"username": "has space", "role": "worker", "id_number": "110105194912310021"},
    ).get_data(as_text=True)
    assert "不能有空格" in page
    assert "身份证号不正确" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_admin_resets_a_password_and_unlocks(client, login, frozen_clock):
    make_user(Role.ADMIN, username="boss")
    worker = make_user(Role.WORKER, username="w1")
    for _ in range(5):
        login("w1", "wrong-password-1")
    assert _user("w1").is_locked(frozen_clock.now())
    login("boss")
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "已锁定" in listing
    client.post(f"/admin/users/{worker.id}/unlock")
    assert not _user("w1").is_locked(frozen_clock.now())
    page = client.post(f"/admin/users/{worker.id}/reset-password").get_data(as_text=True)
    assert "初始密码" in page and _user("w1").must_change_password
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"user.locked", "user.unlocked", "user.password_reset"} <= actions


def test_admin_edits_an_account_but_cannot_demote_themselves(client, login):
    admin = make_user(Role.ADMIN, username="boss")
    worker = make_user(Role.WORKER, username="w1")
    login("boss")
    client.post(
        f"/admin/users/{worker.id}/edit",
        data={"username": "w1", "name": "新名字", "role": "trainer", "active": "y"},
    )
    assert _user("w1").role is Role.TRAINER and _user("w1").name == "新名字"
    page = client.post(
        f"/admin/users/{admin.id}/edit",
        data={"username": "boss", "role": "worker", "active": "y"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "不能取消你自己的管理员权限" in page
    assert _user("boss").role is Role.ADMIN


def test_user_list_filters_and_masks_id_numbers(client, login):
    make_user(Role.ADMIN, username="boss")
    id_number = make_id()
    make_user(Role.WORKER, username="w1", name="陈小梅", id_number=id_number)
    make_user(Role.TRAINER, username="t1", name="王老师")
    login("boss")
    page = client.get("/admin/users?role=worker").get_data(as_text=True)
    assert "陈小梅" in page and "王老师" not in page
    assert id_number not in page and id_number[:6] + "********" + id_number[-4:] in page
    page = client.get("/admin/users?q=王老").get_data(as_text=True)
    assert "王老师" in page and "陈小梅" not in page
