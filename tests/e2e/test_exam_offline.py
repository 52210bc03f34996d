"""A worker on a phone loses the network in the middle of the exam and loses nothing."""

from datetime import timedelta

import sqlalchemy as sa

from certify.core import clock
from certify.exams import services
from certify.exams.models import Attempt, AttemptStatus
from certify.extensions import db


def _saved(attempt_id):
    db.session.expire_all()
    return services.answers_by_position(db.session.get(Attempt, attempt_id))


def test_answers_chosen_offline_arrive_when_the_network_returns(live_url, phone, cohort, worker):
    now = clock.now()
    services.schedule_session(
        cohort, now - timedelta(minutes=1), now + timedelta(hours=2), duration_minutes=60
    )
    db.session.commit()
    page = phone
    page.goto(f"{live_url}/login")
    page.fill("#login", worker.id_number)
    page.fill("#password", "my-own-pass-1")
    page.click("button.primary")
    page.goto(f"{live_url}/exams/")
    page.click("text=开始考试")
    page.wait_for_selector("#exam-form")
    attempt_id = int(page.get_attribute("#exam-form", "data-attempt"))
    questions = page.locator("fieldset.question")
    ids = [int(questions.nth(i).get_attribute("data-question")) for i in range(3)]

    # online: saved as chosen
    questions.nth(0).locator(".answer label").first.click()
    page.wait_for_selector(f'#q-{ids[0]} .save-state[data-state="saved"]', timeout=10000)
    assert ids[0] in _saved(attempt_id)

    # offline: kept on the phone, shown as not yet saved
    page.context.set_offline(True)
    questions.nth(1).locator(".answer label").first.click()
    questions.nth(2).locator(".answer label").first.click()
    page.wait_for_selector(f'#q-{ids[2]} .save-state[data-state="unsaved"]', timeout=10000)
    assert ids[1] not in _saved(attempt_id) and ids[2] not in _saved(attempt_id)
    assert page.locator("#connection").inner_text().strip()

    # back online: the queue is sent
    page.context.set_offline(False)
    page.wait_for_selector(f'#q-{ids[2]} .save-state[data-state="saved"]', timeout=20000)
    saved = _saved(attempt_id)
    assert ids[1] in saved and ids[2] in saved

    # a reload keeps every answer
    page.reload()
    page.wait_for_selector("#exam-form")
    for qid in ids:
        assert page.locator(f'input[name="q{qid}"]:checked').count() == 1

    # hand in, confirming the list of unanswered questions
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#submit-button")
    page.wait_for_url(f"**/exams/attempt/{attempt_id}/done", timeout=20000)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Attempt.status).where(Attempt.id == attempt_id)) is (
        AttemptStatus.GRADED
    )


def _departures(attempt_id):
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id).departures


def test_a_reload_is_not_leaving_the_exam_but_going_elsewhere_is(live_url, phone, cohort, worker):
    now = clock.now()
    services.schedule_session(
        cohort, now - timedelta(minutes=1), now + timedelta(hours=2), duration_minutes=60
    )
    db.session.commit()
    page = phone
    page.goto(f"{live_url}/login")
    page.fill("#login", worker.id_number)
    page.fill("#password", "my-own-pass-1")
    page.click("button.primary")
    page.goto(f"{live_url}/exams/")
    page.click("text=开始考试")
    page.wait_for_selector("#exam-form")
    attempt_id = int(page.get_attribute("#exam-form", "data-attempt"))
    exam_url = page.url

    page.reload()
    page.wait_for_selector("#exam-form")
    page.wait_for_timeout(1500)  # time for any event to be sent
    assert _departures(attempt_id) == 0

    page.goto(f"{live_url}/healthz")  # somewhere else, in the same tab
    page.wait_for_timeout(6000)  # longer than a reload takes
    page.goto(exam_url)
    page.wait_for_selector("#exam-form")
    page.wait_for_function(f"() => fetch('/api/v1/attempts/{attempt_id}/result').then(() => true)")
    page.wait_for_timeout(1500)
    assert _departures(attempt_id) == 1
