"""Access codes cannot be guessed: five wrong codes, then ten minutes' wait or the proctor."""

import sqlalchemy as sa

from certify.accounts.models import Role
from certify.audit.models import AuditEvent
from certify.core import clock
from certify.exams import services
from certify.exams.models import Attempt
from certify.extensions import db
from tests.factories import make_user

CODE = "K7Q2X9"


def _with_code(exam):
    exam.access_code = CODE
    db.session.commit()
    return exam


def test_twelve_wrong_codes_meet_a_423_even_with_the_right_code_after(
    api, exam, worker, frozen_clock
):
    _with_code(exam)
    statuses = [
        api("POST", f"/exams/{exam.id}/attempts", {"access_code": f"WRONG{n}"}).status_code
        for n in range(12)
    ]
    assert statuses[:4] == [422] * 4 and set(statuses[4:]) == {423}
    right = api("POST", f"/exams/{exam.id}/attempts", {"access_code": CODE})
    assert right.status_code == 423
    assert right.get_json()["error"]["code"] == "access_code_locked"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 0
    frozen_clock.advance(minutes=10)
    assert api("POST", f"/exams/{exam.id}/attempts", {"access_code": CODE}).status_code == 200


def test_the_exam_page_form_is_limited_the_same_way(client, login, exam, worker, frozen_clock):
    _with_code(exam)
    login(worker.id_number, "my-own-pass-1")
    for n in range(6):
        client.post(f"/exams/{exam.id}/start", data={"access_code": f"NOPE{n}"})
    page = client.post(
        f"/exams/{exam.id}/start", data={"access_code": CODE}, follow_redirects=True
    ).get_data(as_text=True)
    assert "入场码输错次数太多" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 0


def test_the_proctor_sees_the_lock_and_lifts_it(
    client, login, api, exam, worker, trainer, frozen_clock
):
    _with_code(exam)
    for n in range(6):
        api("POST", f"/exams/{exam.id}/attempts", {"access_code": f"WRONG{n}"})
    login(trainer.username)
    board = client.get(f"/exams/sessions/{exam.id}").get_data(as_text=True)
    assert "入场码输错被锁定" in board and worker.name in board
    lifted = client.post(f"/exams/sessions/{exam.id}/access-code-locks/{worker.id}/lift")
    assert lifted.status_code == 302
    assert api("POST", f"/exams/{exam.id}/attempts", {"access_code": CODE}).status_code == 200
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"attempt.access_code_locked", "attempt.access_code_unlocked"} <= actions


def test_a_right_code_clears_earlier_mistakes(api, exam, worker, frozen_clock):
    _with_code(exam)
    for n in range(4):
        api("POST", f"/exams/{exam.id}/attempts", {"access_code": f"WRONG{n}"})
    assert api("POST", f"/exams/{exam.id}/attempts", {"access_code": CODE}).status_code == 200
    assert services.access_code_locks(exam) == []


def test_one_workers_lock_is_not_anothers(api, exam, worker, cohort, frozen_clock):
    from certify.accounts.sessions import issue_token
    from certify.cohorts.models import Enrolment

    _with_code(exam)
    for n in range(6):
        api("POST", f"/exams/{exam.id}/attempts", {"access_code": f"WRONG{n}"})
    other = make_user(Role.WORKER, username="w-other")
    db.session.add(Enrolment(cohort_id=cohort.id, user_id=other.id))
    token, _ = issue_token(other)
    db.session.commit()
    started = api("POST", f"/exams/{exam.id}/attempts", {"access_code": CODE}, bearer=token)
    assert started.status_code == 200


def test_codes_are_at_least_six_characters(cohort, frozen_clock):
    import pytest

    from certify.core.errors import ValidationFailed

    now = clock.now()
    with pytest.raises(ValidationFailed) as raised:
        services.schedule_session(cohort, now, now.replace(hour=now.hour + 2), access_code="K7Q2")
    assert raised.value.problems[0].field == "access_code"
