"""The trail pages: who may read them, filters, cursors, the chain check and exports."""

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from certify.accounts.models import Role
from certify.audit import views as audit_views
from certify.audit.chain import verify_chain
from certify.audit.services import record_event
from certify.core import clock
from certify.extensions import db
from tests.audit.conftest import ids, tamper
from tests.factories import make_user

PAGES = [
    ("get", "/audit/"),
    ("get", "/audit/?subject_type=certificates&subject_id=12"),
    ("get", "/audit/export.csv"),
    ("get", "/audit/export.xlsx"),
    ("post", "/audit/verify"),
]


@pytest.fixture
def reader(client, login):
    """Log in as an admin, pages in English."""

    def as_role(role: Role = Role.ADMIN):
        user = make_user(role, username=f"reader-{role.value}")
        login(user.username)
        client.get("/?lang=en")
        return user

    return as_role


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_the_views_declare_their_readers():
    for view in (audit_views.trail, audit_views.verify, audit_views.export_trail):
        assert view.allowed_roles == {Role.ADMIN, Role.HR}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.HR])
@pytest.mark.parametrize(("method", "url"), PAGES)
def test_admins_and_reviewers_may_read(client, reader, trail, role, method, url):
    reader(role)
    response = getattr(client, method)(url)
    assert response.status_code == 200


@pytest.mark.parametrize("role", [Role.WORKER, Role.TRAINER, Role.EXAMINER])
@pytest.mark.parametrize(("method", "url"), PAGES)
def test_other_roles_are_refused(client, reader, trail, role, method, url):
    reader(role)
    assert getattr(client, method)(url).status_code == 403


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, trail, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_trail_shows_newest_first_with_the_change(client, reader, trail, subject):
    record_event(
        "user.updated",
        subject,
        before={"name": "李四", "role": "trainer"},
        after={"name": "王五", "role": "trainer"},
    )
    db.session.commit()
    reader()
    page = _text(client.get("/audit/"))
    assert page.index("user.updated") < page.index("test.step4") < page.index("test.step0")
    assert "<del>李四</del> → <ins>王五</ins>" in page
    assert "trainer</del>" not in page  # unchanged fields are left out
    assert f"/audit/?subject_type=users&amp;subject_id={subject.id}" in page


def test_times_are_shown_in_wenzhou(client, reader, subject, frozen_clock):
    record_event("test.timed", subject)
    db.session.commit()
    reader()
    assert "2026-11-23 09:30:00" in _text(client.get("/audit/"))


def test_filters(client, reader, subject, frozen_clock):
    other = make_user(Role.WORKER, username="other1")
    record_event("certificate.issued", subject, after={"n": 1})
    frozen_clock.advance(days=2)
    record_event("certificate.revoked", other, after={"n": 2})
    record_event("user.updated", other, after={"n": 3})
    db.session.commit()
    admin = reader()
    record_event("user.password_changed", subject, actor=admin)
    db.session.commit()

    def shown(**args) -> set[str]:
        page = _text(client.get("/audit/", query_string=args))
        return {
            a
            for a in (
                "certificate.issued",
                "certificate.revoked",
                "user.updated",
                "user.password_changed",
                "user.created",
            )
            if f">{a}<" in page
        }

    assert shown(action="certificate") == {"certificate.issued", "certificate.revoked"}
    assert shown(action="certificate.issued") == {"certificate.issued"}
    assert shown(action="cert") == set()
    assert shown(subject_type="users", subject_id=str(other.id)) == {
        "user.created",
        "certificate.revoked",
        "user.updated",
    }
    assert shown(actor=admin.username) == {"user.password_changed"}
    today = clock.local(clock.now()).date()
    earlier = today - timedelta(days=2)
    assert shown(date_from=today.isoformat()) == {
        "certificate.revoked",
        "user.updated",
        "user.password_changed",
        "user.created",
    }
    assert shown(date_to=earlier.isoformat()) == {"certificate.issued", "user.created"}
    # Nonsense narrows nothing and breaks nothing.
    assert "user.updated" in shown(date_from="yesterday", subject_type="no_such_table")


def test_cursor_pages_of_fifty(client, reader, subject):
    for n in range(119):
        record_event("test.many", subject, after={"n": n})
    db.session.commit()
    reader()  # one more entry: 121 in all, with the subject's user.created

    def entries(page: str) -> int:
        return page.count('<tr id="entry-')

    first = _text(client.get("/audit/"))
    assert entries(first) == 50
    assert "Newer" not in first
    older = first.split('href="/audit/?before=')[1].split('"')[0]
    second = _text(client.get(f"/audit/?before={older}"))
    assert entries(second) == 50
    assert "Newer" in second
    third_cursor = second.split('href="/audit/?before=')[1].split('"')[0]
    third = _text(client.get(f"/audit/?before={third_cursor}"))
    assert entries(third) == 21
    assert "Older" not in third
    newer = third.split('href="/audit/?after=')[1].split('"')[0]
    assert _text(client.get(f"/audit/?after={newer}")).count('<tr id="entry-') == 50
    assert client.get("/audit/?before=abc&after=-3").status_code == 200


def test_the_chain_check_button(client, reader, trail):
    reader()
    page = _text(client.post("/audit/verify"))
    assert "The chain is intact." in page
    assert verify_chain().last_hash in page
    tamper("UPDATE audit_events SET actor_username = 'x' WHERE id = :id", id=trail[2])
    page = _text(client.post("/audit/verify"))
    assert "The chain is broken." in page
    assert f"Entry {trail[2]} was changed" in page


def test_the_chain_check_with_a_recorded_hash(client, reader, trail):
    reader()
    recorded = verify_chain().last_hash
    tamper("DELETE FROM audit_events WHERE id = :id", id=max(ids()))
    assert "The chain is intact." in _text(client.post("/audit/verify"))
    page = _text(client.post("/audit/verify", data={"expect_last": recorded}))
    assert "No entry carries the hash you recorded" in page
    refused = client.post("/audit/verify", data={"expect_last": "abc"}, follow_redirects=True)
    assert "64 hexadecimal characters" in _text(refused)


def test_csv_export_of_the_filtered_rows(client, reader, subject):
    record_event("certificate.issued", subject, after={"holder": "张三"})
    record_event("user.updated", subject, after={"name": "王五"})
    db.session.commit()
    reader()
    response = client.get("/audit/export.csv?action=certificate")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[1][4:9] == ["system", "certificate.issued", "users", str(subject.id), ""]
    assert rows[1][9] == '{"holder":"张三"}'
    assert rows[1][11] and len(rows[1][11]) == 64


def test_csv_cells_never_start_a_formula(client, reader):
    sneaky = make_user(Role.TRAINER, username="-x1")
    reader()
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/audit/export.csv?actor={sneaky.username}")
                .get_data()
                .decode("utf-8-sig")
            )
        )
    )
    assert rows == [rows[0]] or rows[1][4] == "'-x1"
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/audit/export.csv?subject_id={sneaky.id}&subject_type=users")
                .get_data()
                .decode("utf-8-sig")
            )
        )
    )
    assert rows[1][7] == str(sneaky.id)


def test_xlsx_export(client, reader, trail):
    reader()
    response = client.get("/audit/export.xlsx?action=test")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "编号"
    assert [r[5] for r in rows[1:]] == [f"test.step{n}" for n in range(5)]
    assert '"名":"张三"' in rows[1][9]


def test_an_unknown_export_format_is_not_found(client, reader):
    reader()
    assert client.get("/audit/export.pdf").status_code == 404
