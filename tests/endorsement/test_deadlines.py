"""Working-day deadlines after an exam: results final, then certificates to the bureau."""

from datetime import UTC, date, datetime, timedelta

import pytest

from certify.accounts.models import Role
from certify.core import clock
from certify.endorsement import deadlines, services
from certify.endorsement.deadlines import DeadlineState, working_days_between
from certify.exams.services import schedule_session
from certify.extensions import db
from certify.results.models import Result, ResultStatus
from tests.factories import make_user

# frozen_clock: Monday 2026-11-23, 09:30 in Wenzhou. Twelve working days before it is
# Thursday 2026-11-05; the results were due ten working days after that, on 2026-11-19.
TWELVE_WORKING_DAYS_AGO = datetime(2026, 11, 5, 3, 0, tzinfo=UTC)  # 11:00 in Wenzhou


@pytest.fixture
def admin(app):
    return make_user(Role.ADMIN, username="office")


def closed_session(cohort, closes_at, name):
    session = schedule_session(
        cohort, closes_at - timedelta(hours=2), closes_at, duration_minutes=90, name=name
    )
    db.session.commit()
    return session


def add_result(session, worker, status, finalized_at=None, passed=True):
    db.session.add(
        Result(
            session_id=session.id,
            user_id=worker.id,
            passed=passed,
            status=status,
            finalized_at=finalized_at,
        )
    )
    db.session.commit()


def test_working_days_are_monday_to_friday():
    friday, saturday, sunday, monday = (date(2026, 11, d) for d in (20, 21, 22, 23))
    assert working_days_between(friday, monday) == 1
    assert working_days_between(saturday, sunday) == 0
    assert working_days_between(monday, monday) == 0
    assert working_days_between(monday, friday) == -1
    assert working_days_between(date(2026, 11, 5), monday) == 12
    # A moment counts on its Wenzhou day: 18:00 UTC on Sunday is already Monday there.
    assert working_days_between(datetime(2026, 11, 22, 18, 0, tzinfo=UTC), monday) == 0


def test_a_session_closed_twelve_working_days_ago_without_final_results_is_late(
    cohort, worker, frozen_clock
):
    session = closed_session(cohort, TWELVE_WORKING_DAYS_AGO, "理论考试")
    add_result(session, worker, ResultStatus.PUBLISHED)

    (row,) = deadlines.session_deadlines()
    assert row.session.id == session.id and row.working_days_since == 12
    assert row.results.due_on == date(2026, 11, 19)
    assert row.results.state is DeadlineState.LATE and row.results.working_days_left == -2
    assert row.submission.due_on == date(2026, 11, 26)  # five working days more
    assert row.submission.state is DeadlineState.OPEN
    assert row.state is DeadlineState.LATE and row.flagged
    assert [r.session.id for r in deadlines.flagged_deadlines()] == [session.id]


def test_nothing_recorded_after_the_exam_counts_as_not_done(cohort, worker, frozen_clock):
    closed_session(cohort, TWELVE_WORKING_DAYS_AGO, "无人成绩")
    (row,) = deadlines.session_deadlines()
    assert row.results.state is DeadlineState.LATE


def test_due_soon_open_and_not_yet_closed(cohort, worker, frozen_clock):
    nine_ago = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)  # Tuesday: results due Tuesday 11-24
    two_ago = datetime(2026, 11, 19, 3, 0, tzinfo=UTC)
    soon = closed_session(cohort, nine_ago, "九天前")
    fresh = closed_session(cohort, two_ago, "两天前")
    closed_session(cohort, clock.now() + timedelta(hours=3), "还没考")  # not closed: no deadline

    rows = {row.session.id: row for row in deadlines.session_deadlines()}
    assert set(rows) == {soon.id, fresh.id}
    assert rows[soon.id].results.state is DeadlineState.DUE_SOON
    assert rows[soon.id].results.working_days_left == 1
    assert rows[fresh.id].results.state is DeadlineState.OPEN
    assert [r.session.id for r in deadlines.flagged_deadlines()] == [soon.id]


def test_the_limits_come_from_the_config(app, cohort, worker, frozen_clock, monkeypatch):
    closed_session(cohort, TWELVE_WORKING_DAYS_AGO, "理论考试")
    monkeypatch.setitem(app.config, "RESULTS_DEADLINE_WORKING_DAYS", 20)
    monkeypatch.setitem(app.config, "SUBMISSION_DEADLINE_WORKING_DAYS", "not a number")
    (row,) = deadlines.session_deadlines()
    assert row.results.state is DeadlineState.OPEN
    assert row.submission.due_on - row.results.due_on == timedelta(days=7)  # 5 working days


def test_results_final_in_time_then_certificates_late_then_submitted(
    cohort, worker, certificate, frozen_clock
):
    """The fixture's exam closes at 12:30 on Monday 11-23 and its results are final at once."""
    admin = make_user(Role.ADMIN, username="office")
    frozen_clock.advance(hours=4)  # the exam has closed
    (row,) = deadlines.session_deadlines()
    assert row.results.state is DeadlineState.DONE
    assert row.results.done_on == date(2026, 11, 23)
    assert row.submission.state is DeadlineState.OPEN
    assert row.progress.certificates_waiting == 1

    frozen_clock.advance(days=22)  # three weeks on: 15 working days have passed
    (row,) = deadlines.session_deadlines()
    assert row.submission.due_on == date(2026, 12, 14)
    assert row.submission.state is DeadlineState.LATE

    services.submit_batch([certificate], admin)
    db.session.commit()
    assert deadlines.session_deadlines() == []  # nothing open any more
    (row,) = deadlines.session_deadlines(include_done=True)
    assert row.submission.state is DeadlineState.DONE_LATE


def test_the_deadlines_page_and_the_admin_home(client, login, admin, cohort, worker, frozen_clock):
    late = closed_session(cohort, TWELVE_WORKING_DAYS_AGO, "理论考试")
    login("office")
    client.get("/?lang=en")
    page = client.get("/endorsement/deadlines").get_data(as_text=True)
    assert late.name in page and 'data-state="late"' in page
    assert "Due 2026-11-19 (working days late: 2)" in page
    home = client.get("/").get_data(as_text=True)
    assert 'id="endorsement-summary"' in home and late.name in home
    assert "Results final: due 2026-11-19" in home
