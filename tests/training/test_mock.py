from datetime import timedelta

import pytest
import sqlalchemy as sa

from certify.banks.blueprints import list_blueprints
from certify.banks.types import QuestionType
from certify.exams.grading import grade
from certify.exams.papers import draw_paper
from certify.extensions import db
from certify.training import services
from certify.training.models import MockAttempt


def test_papers_follow_the_blueprint_are_reproducible_and_differ(trade):
    blueprint = list_blueprints(trade)[0]
    paper = draw_paper(blueprint, seed=42)
    assert len(paper) == 90 and sum(i.points_hundredths for i in paper) == 10000
    assert len({i.version_id for i in paper}) == 90
    assert draw_paper(blueprint, seed=42) == paper
    other = draw_paper(blueprint, seed=43)
    assert {i.version_id for i in other} != {i.version_id for i in paper}


def test_graders():
    assert grade(QuestionType.SINGLE, ["B"], ["B"]) == 1
    assert grade(QuestionType.SINGLE, ["B"], ["A"]) == 0
    assert grade(QuestionType.TRUE_FALSE, ["F"], []) == 0
    assert grade(QuestionType.MULTIPLE, ["A", "C"], ["A"]) == 0
    assert grade(QuestionType.MULTIPLE, ["A", "C"], ["A"], mode="partial") * 2 == 1
    assert grade(QuestionType.MULTIPLE, ["A", "C"], ["A", "B"], mode="partial") == 0
    assert grade(QuestionType.MULTIPLE, ["A", "C"], ["C", "A"]) == 1


def _all_right(attempt):
    return {i.position: list(i.version.correct) for i in attempt.items}


def test_a_mock_exam_is_timed_graded_and_broken_down_by_area(worker, trade, frozen_clock):
    blueprint = list_blueprints(trade)[0]
    attempt = services.start_mock(worker, blueprint)
    db.session.commit()
    assert attempt.deadline == frozen_clock.now() + timedelta(minutes=90)
    answers = _all_right(attempt)
    first = attempt.items[0]
    answers[first.position] = []  # one left blank
    services.submit_mock(attempt, answers)
    db.session.commit()
    expected = 100 - first.points_hundredths / 100
    assert attempt.score == expected
    assert sum(a["max"] for a in attempt.by_area) == 100
    assert sum(a["score"] for a in attempt.by_area) == expected
    services.submit_mock(attempt, {})  # a second submit changes nothing
    assert attempt.score == expected


def test_answers_sent_after_the_deadline_do_not_count(worker, trade, frozen_clock):
    attempt = services.start_mock(worker, list_blueprints(trade)[0])
    frozen_clock.advance(minutes=90, seconds=31)
    services.submit_mock(attempt, _all_right(attempt))
    assert attempt.score == 0


def test_an_abandoned_mock_is_graded_when_its_time_is_over(worker, trade, frozen_clock):
    attempt = services.start_mock(worker, list_blueprints(trade)[0])
    services.save_mock_answers(attempt, _all_right(attempt))
    frozen_clock.advance(hours=2)
    services.expire_mock_if_due(attempt)
    assert attempt.finished and attempt.score == 100


def test_mock_exams_never_touch_anything_but_their_own_tables(worker, trade):
    counts = lambda: {  # noqa: E731
        t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in db.metadata.sorted_tables
        if t.name not in ("mock_attempts", "mock_paper_items")
    }
    before = counts()
    attempt = services.start_mock(worker, list_blueprints(trade)[0])
    services.submit_mock(attempt, _all_right(attempt))
    db.session.commit()
    assert counts() == before


def test_mock_exam_pages(client, login, worker, trade):
    login(worker.username, "my-own-pass-1")
    blueprint = list_blueprints(trade)[0]
    listing = client.get(f"/learn/{trade.code}/mock").get_data(as_text=True)
    assert blueprint.name in listing
    response = client.post(f"/learn/{trade.code}/mock/{blueprint.id}/start")
    attempt_url = response.headers["Location"]
    page = client.get(attempt_url).get_data(as_text=True)
    assert page.count('class="answer"') >= 90 * 2 and "is-right" not in page
    attempt = db.session.scalar(sa.select(MockAttempt))
    # the page never carries the answer key while the mock is open
    for item in attempt.items[:5]:
        assert item.version.explanation not in page
    form = {f"q{i.position}": i.version.correct for i in attempt.items}
    result = client.post(attempt_url, data={**form, "action": "submit"}, follow_redirects=True)
    text = result.get_data(as_text=True)
    assert "100 分" in text and "按知识点" in text


def test_nobody_sees_another_workers_mock(client, login, worker, trade, cohort):
    from certify.cohorts.services import enrol_roster
    from tests.classes import roster_csv, roster_rows

    attempt = services.start_mock(worker, list_blueprints(trade)[0])
    enrol_roster(cohort, "r.csv", roster_csv(roster_rows(1, start=5)))
    db.session.commit()
    other = next(e.user for e in cohort.enrolments if e.user_id != worker.id)
    login(other.id_number, other.first_password)
    client.post(
        "/account/password",
        data={
            "current_password": other.first_password,
            "new_password": "other-pass-1",
            "confirm": "other-pass-1",
        },
    )
    assert client.get(f"/learn/mock/{attempt.id}").status_code == 404
    assert client.get(f"/learn/mock/{attempt.id}/result").status_code == 404


@pytest.mark.parametrize("mode", ["exact"])
def test_grading_registry_covers_every_type(mode):
    from certify.exams.grading import GRADERS

    assert {t for t, m in GRADERS if m == mode} == set(QuestionType)


def test_handing_in_with_questions_unanswered_asks_first(client, login, worker, trade):
    from tests.pages import visible_text

    login(worker.username, "my-own-pass-1")
    blueprint = list_blueprints(trade)[0]
    attempt_url = client.post(f"/learn/{trade.code}/mock/{blueprint.id}/start").headers["Location"]
    attempt = db.session.scalar(sa.select(MockAttempt))
    half = {f"q{i.position}": i.version.correct for i in attempt.items[:45]}
    asked = client.post(attempt_url, data={**half, "action": "submit"})
    text = visible_text(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "共 90 题，还有 45 题没答。" in text
    assert f"没答的是第 {attempt.items[45].position}、" in text
    db.session.expire_all()
    assert not attempt.finished and len(attempt.answers) == 45  # saved, not handed in
    back = client.get(attempt_url).get_data(as_text=True)
    assert back.count("checked") >= 45
    done = client.post(attempt_url, data={"action": "submit", "confirmed": "1", "saved": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/result")
    db.session.expire_all()
    assert attempt.finished
    assert attempt.score == sum(i.points_hundredths for i in attempt.items[:45]) / 100


def test_an_abandoned_mock_reads_as_graded_and_the_schedule_records_it(
    client, login, worker, trade, frozen_clock
):
    login(worker.username, "my-own-pass-1")
    attempt = services.start_mock(worker, list_blueprints(trade)[0])
    services.save_mock_answers(attempt, _all_right(attempt))
    db.session.commit()
    frozen_clock.advance(hours=2)
    assert client.get(f"/learn/mock/{attempt.id}").status_code == 302
    result = client.get(f"/learn/mock/{attempt.id}/result").get_data(as_text=True)
    assert "100 分" in result
    db.session.expire_all()
    assert not attempt.finished  # a page never writes
    assert services.expire_overdue_mocks() == 1
    db.session.commit()
    assert attempt.finished and attempt.score == 100
    assert services.expire_overdue_mocks() == 0
