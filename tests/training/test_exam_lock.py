"""Nothing readable during an exam: practice, the wrong-answer book, mocks and materials of the
trade close while the worker's exam is open and not handed in; 仅用于考试 questions never show
outside exams."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from certify.banks.models import ExamBlueprint, Question
from certify.banks.services import mark_exam_only
from certify.core import clock
from certify.exams import services as exams
from certify.exams.models import Attempt
from certify.extensions import db
from certify.training import services as training
from certify.training.models import WrongBookEntry

PASSWORD = "my-own-pass-1"


def _learn_pages(trade, question_id: int, blueprint_id: int) -> list[tuple[str, str, dict]]:
    code = trade.code
    return [
        ("GET", f"/learn/{code}/practice", {}),
        ("GET", f"/learn/{code}/practice?mode=random", {}),
        ("POST", f"/learn/{code}/practice/{question_id}", {"answer": ["A"]}),
        ("GET", f"/learn/{code}/wrong-book", {}),
        ("GET", f"/learn/{code}/wrong-book?all=1", {}),
        ("POST", f"/learn/{code}/wrong-book/{question_id}/mastered", {}),
        ("GET", f"/learn/{code}/mock", {}),
        ("POST", f"/learn/{code}/mock/{blueprint_id}/start", {}),
        ("GET", f"/learn/{code}/materials", {}),
    ]


def _blueprint_id(trade) -> int:
    return db.session.scalar(sa.select(ExamBlueprint.id).where(ExamBlueprint.trade_id == trade.id))


def test_a_worker_with_an_attempt_in_progress_gets_no_key_of_the_paper(
    client, login, worker, exam, trade, frozen_clock
):
    login(worker.id_number, PASSWORD)
    token = client.post(
        "/api/v1/auth/token", json={"username": worker.id_number, "password": PASSWORD}
    ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    paper = client.post(f"/api/v1/exams/{exam.id}/attempts", headers=headers).get_json()
    attempt = db.session.get(Attempt, paper["attempt_id"])
    # The paper names its questions by their number on it, never by a bank id.
    assert [q["id"] for q in paper["questions"]] == list(range(1, len(paper["questions"]) + 1))
    bank_ids = [item.question_id for item in attempt.items]
    keys = {item.question_id: item.version for item in attempt.items}
    for question_id in bank_ids + [q["id"] for q in paper["questions"]]:
        response = client.post(
            f"/learn/{trade.code}/practice/{question_id}", data={"answer": ["A"]}
        )
        assert response.status_code == 423, question_id
        text = response.get_data(as_text=True)
        version = keys.get(question_id)
        if version is not None and version.explanation:
            assert version.explanation not in text
    for method, path, data in _learn_pages(trade, bank_ids[0], _blueprint_id(trade)):
        response = client.open(path, method=method, data=data)
        assert response.status_code == 423, path
        text = response.get_data(as_text=True)
        assert "你的考试正在进行" in text and f"/exams/attempt/{attempt.id}" in text
    # Nothing of the paper got into the wrong-answer book either.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WrongBookEntry)) == 0
    index = client.get("/learn/").get_data(as_text=True)
    assert "你的考试正在进行" in index and f"/learn/{trade.code}/practice" not in index

    assert client.post(f"/api/v1/attempts/{attempt.id}/submit", headers=headers).status_code == 200
    assert client.get(f"/learn/{trade.code}/practice").status_code == 200  # handed in: open


def test_an_open_session_not_yet_started_closes_practice_too(
    client, login, worker, exam, trade, frozen_clock
):
    login(worker.id_number, PASSWORD)
    response = client.get(f"/learn/{trade.code}/practice")
    assert response.status_code == 423
    assert "/exams/" in response.get_data(as_text=True)


def test_practice_is_open_before_the_window_and_after_it_closes(
    client, login, worker, cohort, trade, frozen_clock
):
    now = clock.now()
    session = exams.schedule_session(
        cohort, now + timedelta(hours=1), now + timedelta(hours=3), duration_minutes=90
    )
    db.session.commit()
    login(worker.id_number, PASSWORD)
    assert client.get(f"/learn/{trade.code}/practice").status_code == 200
    frozen_clock.advance(hours=1, minutes=1)
    assert client.get(f"/learn/{trade.code}/practice").status_code == 423
    frozen_clock.advance(hours=2)
    assert session.closes_at <= clock.now()
    assert client.get(f"/learn/{trade.code}/practice").status_code == 200


def test_a_mock_in_progress_is_closed_when_the_exam_opens(
    client, login, worker, cohort, trade, frozen_clock
):
    blueprint = db.session.get(ExamBlueprint, _blueprint_id(trade))
    mock = training.start_mock(worker, blueprint)
    now = clock.now()
    exams.schedule_session(cohort, now, now + timedelta(hours=3), duration_minutes=90)
    db.session.commit()
    login(worker.id_number, PASSWORD)
    assert client.get(f"/learn/mock/{mock.id}").status_code == 423
    assert client.post(f"/learn/mock/{mock.id}", data={"action": "save"}).status_code == 423


def test_staff_are_never_closed_out(client, login, trainer, exam, trade):
    login(trainer.username)
    assert client.get(f"/learn/{trade.code}/practice").status_code == 200


# --- 仅用于考试 -------------------------------------------------------------------------


@pytest.fixture
def exam_only(trade):
    """Every 20th question of the bank, kept for exams only (mocks still have enough)."""
    questions = db.session.scalars(
        sa.select(Question).where(Question.trade_id == trade.id).order_by(Question.id)
    ).all()[::20]
    for question in questions:
        mark_exam_only(question, True)
    db.session.commit()
    return {q.id for q in questions}


def test_exam_only_questions_never_appear_in_practice(worker, trade, exam_only):
    assert not exam_only & set(training.practice_question_ids(trade, None))
    with pytest.raises(Exception) as raised:
        training.get_practice_question(trade, next(iter(exam_only)))
    assert getattr(raised.value, "code", "") == "question_not_found"


def test_exam_only_questions_never_appear_in_mocks_but_do_in_exams(worker, trade, exam_only, exam):
    from certify.exams.papers import draw_paper

    blueprint = db.session.get(ExamBlueprint, _blueprint_id(trade))
    mocks, real = set(), set()
    for seed in range(1, 40):
        mocks |= {i.question_id for i in draw_paper(blueprint, seed, mock=True)}
        real |= {i.question_id for i in draw_paper(blueprint, seed)}
    assert not mocks & exam_only
    assert real & exam_only


def test_the_office_marks_a_question_on_the_bank_page(client, login, trade, app):
    from certify.accounts.models import Role
    from tests.factories import make_user

    make_user(Role.ADMIN, username="office")
    login("office")
    question = db.session.scalar(sa.select(Question).where(Question.trade_id == trade.id))
    marked = client.post(f"/banks/{trade.code}/questions/{question.id}/exam_only")
    assert marked.status_code == 302
    db.session.expire_all()
    assert db.session.get(Question, question.id).exam_only
    page = client.get(f"/banks/{trade.code}/").get_data(as_text=True)
    assert "仅用于考试" in page and "开放练习" in page
    again = client.post(
        f"/banks/{trade.code}/questions/{question.id}/exam_only", follow_redirects=True
    )
    assert "已经是" in again.get_data(as_text=True)
    client.post(f"/banks/{trade.code}/questions/{question.id}/practice")
    db.session.expire_all()
    assert not db.session.get(Question, question.id).exam_only
