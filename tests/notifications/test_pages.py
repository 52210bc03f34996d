"""The notifications page, opening a notification, and the menu badge."""

import re

import pytest
import sqlalchemy as sa

from certify.accounts.models import Role
from certify.extensions import db
from certify.notifications import services
from certify.notifications.messages import render_in
from certify.notifications.models import Notification
from tests.factories import make_user
from tests.notifications.test_services import (
    BATCH_DECIDED,
    CERTIFICATE_ENDORSED,
    CERTIFICATE_REJECTED,
)


def _endorsed(worker, link="/certificates/mine"):
    (row,) = services.notify([worker], "certificate_endorsed", link, **CERTIFICATE_ENDORSED)
    db.session.commit()
    return row


MENU_LINK = re.compile(r'href="/notifications/">[^<&]*(?:&nbsp;<span class="tag tag-warn">(\w+))?')


def _badge(page: str) -> str | None:
    match = MENU_LINK.search(page)
    assert match, "the menu has no notifications link"
    return match.group(1)


def test_the_page_reads_in_chinese_by_default(client, login, worker):
    _endorsed(worker)
    login(worker.username)
    page = client.get("/notifications/").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    _title, zh = render_in("zh", "certificate_endorsed", CERTIFICATE_ENDORSED)
    assert f"<strong>{zh}</strong>" in page


def test_the_page_reads_in_english_with_lang_or_the_users_locale(client, login, worker):
    _endorsed(worker)
    english = (
        "Your certificate S000033030001265000001 (仓库保管员) has been endorsed by "
        "温州市人力资源和社会保障局."
    )
    login(worker.username)
    assert english in client.get("/notifications/?lang=en").get_data(as_text=True)

    other = make_user(Role.WORKER, username="w-en")
    other.locale = "en"
    services.notify([other], "certificate_endorsed", **CERTIFICATE_ENDORSED)
    db.session.commit()
    client.post("/logout")
    login("w-en")
    page = client.get("/notifications/").get_data(as_text=True)
    assert 'lang="en"' in page and english in page


def test_unread_are_bold_and_counted_in_the_menu(client, login, worker):
    first = _endorsed(worker)
    services.notify([worker], "certificate_endorsed", **CERTIFICATE_ENDORSED)
    db.session.commit()
    services.mark_read(worker, [first.id])
    db.session.commit()
    login(worker.username)
    page = client.get("/notifications/?lang=en").get_data(as_text=True)
    assert page.count("<strong>Your certificate") == 1
    assert page.count("Your certificate") == 2
    assert _badge(page) == "1"
    assert _badge(client.get("/").get_data(as_text=True)) == "1"


def test_no_badge_when_all_is_read(client, login, worker):
    login(worker.username)
    assert _badge(client.get("/notifications/").get_data(as_text=True)) is None


def test_user_text_in_params_is_escaped(client, login, admin):
    services.notify(
        [admin], "certificate_rejected", "/x", **{**CERTIFICATE_REJECTED, "reason": "<b>糊</b>"}
    )
    db.session.commit()
    login(admin.username)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "&lt;b&gt;糊&lt;/b&gt;" in page and "<b>糊</b>" not in page
    assert "&amp;lt;" not in page


def test_opening_marks_read_and_goes_to_the_link(client, login, worker):
    row = _endorsed(worker)
    login(worker.username)
    page = client.get("/notifications/").get_data(as_text=True)
    assert f'href="/notifications/{row.id}/open"' in page
    response = client.get(f"/notifications/{row.id}/open")
    assert response.status_code == 302 and response.headers["Location"] == "/certificates/mine"
    db.session.expire_all()
    assert db.session.get(Notification, row.id).read_at is not None
    assert services.unread_count(worker) == 0


def test_someone_elses_notification_is_not_found(client, login, worker, admin):
    row = _endorsed(worker)
    login(admin.username)
    assert client.get(f"/notifications/{row.id}/open").status_code == 404
    assert client.get("/notifications/999999/open").status_code == 404
    assert client.get(f"/notifications/{2**70}/open").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, row.id).read_at is None


@pytest.mark.parametrize(
    "link", ["https://evil.example/login", "//evil.example/login", "/\\evil.example"]
)
def test_an_external_link_is_never_followed(client, login, worker, link):
    # notify() refuses such links; this one was written to the table directly.
    row = Notification(user_id=worker.id, kind="certificate_endorsed", link=link)
    row.params = CERTIFICATE_ENDORSED
    db.session.add(row)
    db.session.commit()
    login(worker.username)
    response = client.get(f"/notifications/{row.id}/open")
    assert response.status_code == 302
    assert response.headers["Location"] == "/notifications/"


def test_a_notification_without_a_link_is_plain_text(client, login, worker):
    services.notify([worker], "certificate_endorsed", **CERTIFICATE_ENDORSED)
    db.session.commit()
    login(worker.username)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "/open" not in page


def test_mark_all_read(client, login, worker, admin):
    services.notify([worker, admin], "batch_decided", **BATCH_DECIDED)
    services.notify([worker], "certificate_endorsed", **CERTIFICATE_ENDORSED)
    db.session.commit()
    login(worker.username)
    assert "/notifications/read" in client.get("/notifications/").get_data(as_text=True)
    response = client.post("/notifications/read")
    assert response.status_code == 302 and response.headers["Location"] == "/notifications/"
    assert services.unread_count(worker) == 0 and services.unread_count(admin) == 1
    page = client.get("/notifications/").get_data(as_text=True)
    assert "<strong>" not in page and "/notifications/read" not in page


def test_a_page_past_the_end_is_empty_not_an_error(client, login, worker):
    _endorsed(worker)
    login(worker.username)
    assert client.get("/notifications/?page=50").status_code == 200
    assert client.get("/notifications/?page=-3").status_code == 200
    assert client.get("/notifications/?page=x").status_code == 200
    assert client.get(f"/notifications/?page={10**30}").status_code == 200


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_the_page(client, login, role):
    user = make_user(role, username=f"n-{role.value}")
    services.notify([user], "certificate_rejected", **CERTIFICATE_REJECTED)
    db.session.commit()
    login(user.username)
    assert client.get("/notifications/").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client, worker):
    row = _endorsed(worker)
    for method, url in [
        ("GET", "/notifications/"),
        ("GET", f"/notifications/{row.id}/open"),
        ("POST", "/notifications/read"),
    ]:
        response = client.open(url, method=method)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert db.session.scalar(sa.select(Notification.read_at)) is None
