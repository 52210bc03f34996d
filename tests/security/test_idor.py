"""Changing an id in an address reaches nobody else's attempt, result, certificate or
notification: each try is refused (403/404) and leaves the other person's data as it was."""

import pytest
import sqlalchemy as sa

from certify.accounts.models import Role
from certify.accounts.sessions import issue_token
from certify.cohorts.models import Cohort, Enrolment
from certify.cohorts.services import CohortData, create_cohort
from certify.exams import services as exams
from certify.exams.models import Attempt, AttemptStatus, ProctorEvent, SessionOverride
from certify.extensions import db
from certify.notifications.models import Notification
from certify.results.models import PracticalScore
from certify.training.models import Material, MockAttempt
from tests.factories import make_user
from tests.security.conftest import log_in


def _bearer(user) -> dict[str, str]:
    token, _expires = issue_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


# --- an exam under way ------------------------------------------------------------------


@pytest.fixture
def running(exam, worker, cohort):
    """The owner (worker) is half-way through the exam; a classmate sits the same exam."""
    attempt = exams.start_attempt(exam, worker)
    first = attempt.items[0]
    exams.save_answer(attempt, first.position, list(first.version.correct))
    classmate = make_user(Role.WORKER, username="classmate")
    db.session.add(Enrolment(cohort=cohort, user=classmate))
    db.session.commit()
    return attempt, classmate


def _snapshot(attempt_id: int) -> tuple:
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    events = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ProctorEvent)
        .where(ProctorEvent.attempt_id == attempt_id)
    )
    return attempt.status, attempt.departures, events, exams.saved_answers(attempt)


def test_a_classmate_cannot_answer_submit_or_read_an_exam_through_the_api(client, running):
    attempt, classmate = running
    before = _snapshot(attempt.id)
    assert before[0] is AttemptStatus.IN_PROGRESS
    headers = _bearer(classmate)
    question = attempt.items[1].question_id
    base = f"/api/v1/attempts/{attempt.id}"
    calls = [
        ("PUT", f"{base}/answers/{question}", {"answer": ["A"]}),
        ("POST", f"{base}/events", {"kind": "blur"}),
        ("POST", f"{base}/submit", {}),
        ("GET", f"{base}/result", None),
    ]
    for method, url, body in calls:
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == 403, (method, url, response.status_code)
        assert response.get_json()["error"]["code"] == "not_your_attempt"
    assert _snapshot(attempt.id) == before


def test_a_classmate_cannot_open_or_post_the_exam_page(client, running):
    attempt, _classmate = running
    before = _snapshot(attempt.id)
    log_in(client, "classmate")
    form = {f"q{item.question_id}": "A" for item in attempt.items} | {"action": "submit"}
    assert client.get(f"/exams/attempt/{attempt.id}").status_code == 403
    assert client.post(f"/exams/attempt/{attempt.id}", data=form).status_code == 403
    assert client.get(f"/exams/attempt/{attempt.id}/done").status_code == 403
    assert _snapshot(attempt.id) == before


def test_an_unknown_attempt_is_not_found_for_everyone(client, running):
    _attempt, classmate = running
    response = client.get("/api/v1/attempts/999999/result", headers=_bearer(classmate))
    assert response.status_code == 404


# --- results, certificates, notifications, mock exams (tests/security/conftest.py) -----


def test_a_classmate_cannot_fetch_the_owners_certificate(client, world):
    number = world.certificate.number
    log_in(client, "classmate")
    assert client.get(f"/certificates/{number}/pdf").status_code == 404
    assert client.get(f"/certificates/{number}/credential.json").status_code == 404
    mine = client.get("/certificates/mine").get_data(as_text=True)
    assert number not in mine  # the share links and QR codes are the owner's page only
    done = client.get(f"/exams/attempt/{world.attempt.id}/done")
    assert done.status_code == 403
    result = client.get(
        f"/api/v1/attempts/{world.attempt.id}/result", headers=_bearer(world.classmate)
    )
    assert result.status_code == 403


def test_a_classmate_cannot_read_the_owners_notification_or_mock_exam(client, world):
    log_in(client, "classmate")
    assert client.get(f"/notifications/{world.notification.id}/open").status_code == 404
    assert client.post("/notifications/read").status_code == 302
    mock_answers = {f"q{item.position}": "A" for item in world.mock.items}
    assert client.get(f"/learn/mock/{world.mock.id}").status_code == 404
    assert client.post(f"/learn/mock/{world.mock.id}", data=mock_answers).status_code == 404
    assert client.get(f"/learn/mock/{world.mock.id}/result").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, world.notification.id).read_at is None
    mock = db.session.get(MockAttempt, world.mock.id)
    assert not mock.finished and not mock.answers


def test_a_worker_of_another_class_cannot_read_the_class_materials(client, world):
    outsider = make_user(Role.WORKER, username="outsider")
    db.session.add(Enrolment(cohort=world.other_cohort, user=outsider))
    db.session.commit()
    log_in(client, "outsider")
    assert client.get(f"/learn/materials/{world.material.id}").status_code == 404
    listing = client.get(f"/learn/{world.trade.code}/materials").get_data(as_text=True)
    assert world.material.title not in listing
    client.post("/logout")
    log_in(client, "classmate")  # the owner's classmate may
    assert client.get(f"/learn/materials/{world.material.id}").status_code == 200


def test_a_trainer_of_another_class_is_refused_everywhere(client, world):
    cohort, exam, owner = world.cohort, world.exam, world.owner
    log_in(client, "teacher2")
    pages = [
        f"/cohorts/{cohort.id}",
        f"/cohorts/{cohort.id}/edit",
        f"/cohorts/{cohort.id}/roster",
        f"/cohorts/{cohort.id}/slips.pdf?user={owner.id}",
        f"/cohorts/{cohort.id}/dashboard",
        f"/cohorts/{cohort.id}/dashboard.xlsx",
        f"/cohorts/{cohort.id}/materials",
        f"/cohorts/{cohort.id}/exams/new",
        f"/exams/sessions/{exam.id}",
        f"/exams/sessions/{exam.id}/report",
        f"/exams/sessions/{exam.id}/results",
        f"/exams/sessions/{exam.id}/results.xlsx",
    ]
    for page in pages:
        assert client.get(page).status_code == 403, page
    posts = [
        (f"/exams/sessions/{exam.id}/override", {"user_id": owner.id, "extra_minutes": 30}),
        (f"/cohorts/{cohort.id}/materials/{world.material.id}/delete", {}),
        (f"/cohorts/{cohort.id}/advance", {}),
        (f"/cohorts/{cohort.id}/edit", {"name": "改名", "track": f"{cohort.trade_id}:5"}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    api = client.get(
        f"/api/v1/attempts/{world.attempt.id}/result", headers=_bearer(world.other_trainer)
    )
    assert api.status_code == 403  # was 200: any trainer read any attempt's score
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SessionOverride)) == 0
    assert db.session.get(Material, world.material.id) is not None
    same = db.session.get(Cohort, cohort.id)
    assert (same.name, same.status) == (world.cohort.name, world.cohort.status)


def test_an_examiner_of_another_trade_is_refused(client, world):
    exam, owner = world.exam, world.owner
    log_in(client, "ex2")
    for page in (
        f"/exams/sessions/{exam.id}",
        f"/exams/sessions/{exam.id}/practical",
        f"/exams/sessions/{exam.id}/results",
    ):
        assert client.get(page).status_code == 403, page
    scored = client.post(f"/exams/sessions/{exam.id}/practical", data={f"score-{owner.id}": "10"})
    assert scored.status_code == 403
    api = client.get(
        f"/api/v1/attempts/{world.attempt.id}/result", headers=_bearer(world.other_examiner)
    )
    assert api.status_code == 403  # was 200: any examiner read any attempt's score
    db.session.expire_all()
    by_ex2 = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(PracticalScore)
        .where(PracticalScore.examiner_id == world.other_examiner.id)
    )
    assert by_ex2 == 0


def test_the_class_trainer_and_the_trade_examiner_still_see_the_result(client, world):
    for user in (world.trainer, world.examiner, world.admin):
        response = client.get(f"/api/v1/attempts/{world.attempt.id}/result", headers=_bearer(user))
        assert response.status_code == 200, user.username
        assert response.get_json()["passed"] is True


def test_a_trainer_of_another_trade_cannot_touch_that_trades_bank(client, world):
    other = make_user(Role.TRAINER, username="plating-teacher", trades=(world.other_trade.code,))
    create_cohort(world.other_trade, CohortData("电镀一期", None, None, "", [other.id]))
    db.session.commit()
    log_in(client, "plating-teacher")
    code, question = world.trade.code, world.question.id
    assert client.get(f"/banks/{code}/").status_code == 403
    assert client.get(f"/banks/{code}/questions/{question}").status_code == 403
    assert client.post(f"/banks/{code}/questions/{question}/retire").status_code == 403
    assert (
        client.post(f"/banks/{code}/blueprints/{world.spare_blueprint.id}/delete").status_code
        == 403
    )
    db.session.expire_all()
    assert str(world.question.status) == "active"
