import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from certify.audit.models import AuditEvent
from certify.core import clock
from certify.exams import services
from certify.exams.models import Attempt, AttemptStatus
from certify.extensions import db


def _right(item):
    return list(item.version.correct)


def _wrong(item):
    keys = [o["key"] for o in item.version.display_options]
    return [next(k for k in keys if [k] != item.version.correct)]


def test_paper_is_frozen_reproducible_and_resumed(exam, worker):
    attempt = services.start_attempt(exam, worker)
    db.session.commit()
    assert len(attempt.items) == 90 and attempt.max_hundredths == 10000
    again = services.start_attempt(exam, worker)
    assert again.id == attempt.id
    from certify.exams.papers import draw_paper

    assert [i.version_id for i in draw_paper(exam.blueprint, attempt.seed)] == [
        i.version_id for i in attempt.items
    ]


def test_an_answer_one_second_before_the_deadline_counts_and_one_after_is_refused(
    exam, worker, frozen_clock
):
    attempt = services.start_attempt(exam, worker)
    first, second = attempt.items[0], attempt.items[1]
    assert attempt.deadline == clock.now() + timedelta(minutes=90)
    frozen_clock.advance(minutes=89, seconds=59)
    services.save_answer(attempt, first.position, _right(first))
    frozen_clock.advance(seconds=1)
    with pytest.raises(services.PastDeadline):
        services.save_answer(attempt, second.position, _right(second))
    db.session.commit()
    assert attempt.status is AttemptStatus.GRADED
    assert attempt.score_hundredths == first.points_hundredths


def test_extra_time_and_the_session_close(exam, worker, cohort, frozen_clock):
    services.set_override(exam, worker, extra_minutes=15, reason="视力障碍")
    attempt = services.start_attempt(exam, worker)
    assert attempt.deadline == clock.now() + timedelta(minutes=105)

    from certify.cohorts.services import enrol_roster
    from tests.classes import roster_csv, roster_rows

    enrol_roster(cohort, "r.csv", roster_csv(roster_rows(1, start=40)))
    late = next(e.user for e in cohort.enrolments if e.user_id != worker.id)
    frozen_clock.advance(hours=2, minutes=30)  # 30 minutes before the session closes
    attempt2 = services.start_attempt(exam, late)
    assert attempt2.deadline == exam.closes_at


def test_an_abandoned_attempt_is_finalised_lazily_and_by_the_cli(app, exam, worker, frozen_clock):
    attempt = services.start_attempt(exam, worker)
    item = attempt.items[0]
    services.save_answer(attempt, item.position, _right(item))
    db.session.commit()
    frozen_clock.advance(minutes=91)
    result = app.test_cli_runner().invoke(args=["exams", "expire-overdue"])
    assert "finalised: 1" in result.output
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status is AttemptStatus.GRADED and attempt.ended_at == attempt.deadline
    assert attempt.score_hundredths == item.points_hundredths
    services.touch(attempt)  # nothing more happens
    assert attempt.status is AttemptStatus.GRADED


def test_grading_each_type_and_partial_credit(exam, worker, trade):
    attempt = services.start_attempt(exam, worker)
    by_type = {}
    for item in attempt.items:
        by_type.setdefault(item.version.type.value, item)
    multiple = by_type["multiple"]
    services.save_answer(attempt, by_type["single"].position, _right(by_type["single"]))
    services.save_answer(attempt, by_type["true_false"].position, _wrong(by_type["true_false"]))
    services.save_answer(attempt, multiple.position, _right(multiple)[:1])
    services.submit_attempt(attempt)
    assert attempt.score_hundredths == by_type["single"].points_hundredths  # exact: 多选 half = 0
    # the same answers under partial credit
    trade.multiple_scoring = "partial"
    attempt.status = AttemptStatus.SUBMITTED
    services.grade_attempt(attempt)
    share = 1 / len(multiple.version.correct)
    assert attempt.score_hundredths == by_type["single"].points_hundredths + round(
        share * multiple.points_hundredths
    )


def test_concurrent_submits_grade_once(app, exam, worker, token):
    attempt = services.start_attempt(exam, worker)
    db.session.commit()
    attempt_id = attempt.id
    errors, statuses = [], []

    def hand_in():
        client = app.test_client()
        response = client.post(
            f"/api/v1/attempts/{attempt_id}/submit", headers={"Authorization": f"Bearer {token}"}
        )
        statuses.append(response.status_code)
        if response.status_code != 200:
            errors.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=hand_in) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 8, errors
    ended = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "attempt.ended")
    )
    assert ended == 1
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).status is AttemptStatus.GRADED


def test_departures_are_counted_once_per_switch_and_can_hand_the_paper_in(
    exam, worker, frozen_clock
):
    exam.departure_limit = 2
    attempt = services.start_attempt(exam, worker)
    services.record_proctor_event(attempt, "blur")
    services.record_proctor_event(attempt, "hidden")  # the same switch
    services.record_proctor_event(attempt, "visible")
    assert attempt.departures == 1
    frozen_clock.advance(seconds=30)
    assert services.record_proctor_event(attempt, "hidden") is True
    assert attempt.status is AttemptStatus.GRADED


def test_an_access_code_is_checked(exam, worker):
    exam.access_code = "K7Q2X9"
    from certify.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.start_attempt(exam, worker, "WRONG")
    assert services.start_attempt(exam, worker, "k7q2x9").id
