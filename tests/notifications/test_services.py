"""notify, notify_role, counts, listing and marking read."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from certify.accounts.models import Role
from certify.extensions import db
from certify.notifications import services
from certify.notifications.messages import KINDS, render_in, render_text
from certify.notifications.models import Notification
from tests.factories import make_user

# The four kinds the endorsement services send, with the params they pass.
BATCH_SUBMITTED = {"reference": "PZ2026-0007", "count": 12, "due": "2026-12-07"}
BATCH_DECIDED = {"reference": "PZ2026-0007", "endorsed": 11, "rejected": 1}
CERTIFICATE_ENDORSED = {
    "number": "S000033030001265000001",
    "trade": "仓库保管员",
    "body": "温州市人力资源和社会保障局",
}
CERTIFICATE_REJECTED = {"number": "S000033030001265000002", "reason": "照片不清晰"}


def test_the_endorsement_kinds_and_their_params_are_registered():
    assert {name: kind.param_names for name, kind in KINDS.items()} == {
        "batch_submitted": set(BATCH_SUBMITTED),
        "batch_decided": set(BATCH_DECIDED),
        "certificate_endorsed": set(CERTIFICATE_ENDORSED),
        "certificate_rejected": set(CERTIFICATE_REJECTED),
    }


def test_notify_adds_one_row_per_user_and_counts_them_unread(worker, admin):
    rows = services.notify([worker, admin, worker], "batch_decided", "/batches/1", **BATCH_DECIDED)
    db.session.commit()
    assert len(rows) == 2 and all(row.id for row in rows)
    assert {row.user_id for row in rows} == {worker.id, admin.id}
    assert rows[0].params == BATCH_DECIDED and rows[0].link == "/batches/1"
    assert services.unread_count(worker) == 1
    services.notify([worker], "certificate_endorsed", **CERTIFICATE_ENDORSED)
    assert services.unread_count(worker) == 2


def test_notify_stays_in_the_callers_transaction(worker):
    services.notify([worker], "certificate_endorsed", **CERTIFICATE_ENDORSED)
    db.session.rollback()
    assert services.unread_count(worker) == 0


@pytest.mark.parametrize(
    ("kind", "link", "params"),
    [
        ("batch_exploded", "", BATCH_DECIDED),  # unknown kind
        ("batch_decided", "", {"reference": "PZ1", "endorsed": 1}),  # missing a param
        ("batch_decided", "", {**BATCH_DECIDED, "endorsed": "many"}),  # %d needs a number
        ("batch_decided", "https://evil.example/login", BATCH_DECIDED),
        ("batch_decided", "//evil.example/login", BATCH_DECIDED),
        ("batch_decided", "/\\evil.example", BATCH_DECIDED),
        ("batch_decided", "javascript:alert(1)", BATCH_DECIDED),
    ],
)
def test_notify_refuses_what_the_calling_code_got_wrong(worker, kind, link, params):
    with pytest.raises(ValueError):
        services.notify([worker], kind, link, **params)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_times_in_params_are_stored_as_wenzhou_time(worker):
    due = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    (row,) = services.notify([worker], "batch_submitted", **{**BATCH_SUBMITTED, "due": due})
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Notification, row.id).params["due"] == "2026-12-07 17:00"


def test_notify_role_reaches_only_active_users_of_that_role():
    hr = [make_user(Role.HR, username=f"hr{i}") for i in range(3)]
    make_user(Role.HR, username="hr-left", active=False)
    make_user(Role.ADMIN, username="office")
    rows = services.notify_role(Role.HR, "batch_submitted", "/endorsement/1", **BATCH_SUBMITTED)
    db.session.commit()
    assert sorted(row.user_id for row in rows) == sorted(user.id for user in hr)


def test_listing_is_newest_first_and_paged(worker, frozen_clock):
    for count in range(25):
        services.notify([worker], "batch_submitted", **{**BATCH_SUBMITTED, "count": count})
        frozen_clock.advance(minutes=1)
    db.session.commit()
    first = services.notifications_for(worker, 1)
    assert first.total == 25 and len(first.items) == services.PER_PAGE
    assert [n.params["count"] for n in first.items[:3]] == [24, 23, 22]
    assert [n.params["count"] for n in services.notifications_for(worker, 2).items][-1] == 0
    assert services.notifications_for(worker, 99).items == []


def test_mark_read_touches_only_the_users_own_notifications(worker, admin):
    mine = services.notify([worker], "certificate_endorsed", **CERTIFICATE_ENDORSED)
    mine += services.notify([worker], "certificate_endorsed", **CERTIFICATE_ENDORSED)
    theirs = services.notify([admin], "certificate_rejected", **CERTIFICATE_REJECTED)
    db.session.commit()
    assert services.mark_read(worker, [mine[0].id, theirs[0].id]) == 1
    assert services.mark_read(worker, []) == 0
    db.session.commit()
    assert services.unread_count(worker) == 1 and services.unread_count(admin) == 1
    assert services.mark_read(worker, "all") == 1
    db.session.commit()
    assert services.unread_count(worker) == 0 and services.unread_count(admin) == 1
    assert mine[0].read_at is not None


def test_open_notification_marks_read_once(worker, admin, frozen_clock):
    (row,) = services.notify([worker], "certificate_endorsed", **CERTIFICATE_ENDORSED)
    db.session.commit()
    assert services.open_notification(admin, row.id) is None
    assert services.open_notification(worker, row.id).read_at == frozen_clock.now()
    first_read = row.read_at
    frozen_clock.advance(hours=1)
    services.open_notification(worker, row.id)
    assert row.read_at == first_read


def test_messages_render_in_the_readers_language():
    title, text = render_in("en", "certificate_rejected", CERTIFICATE_REJECTED)
    assert title == "Certificate rejected"
    assert text == "Certificate S000033030001265000002 was rejected: 照片不清晰"
    with force_locale("en"):
        assert render_text("batch_decided", BATCH_DECIDED) == (
            "Batch PZ2026-0007 was decided: 11 endorsed, 1 rejected."
        )


def test_rows_that_no_longer_fit_their_kind_still_read_as_something():
    with force_locale("en"):
        assert render_text("kind_removed_since", {}) == "You have a notification."
        assert render_text("batch_decided", {"reference": "PZ1"}) == "You have a notification."
