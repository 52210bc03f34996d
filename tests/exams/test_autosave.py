"""The autosave fast path saves only the plain case and leaves every other case to the full path."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from certify.accounts.models import Role
from certify.accounts.sessions import issue_token
from certify.banks.types import QuestionType
from certify.exams import services
from certify.exams.autosave import save_answer_quickly
from certify.exams.models import AttemptAnswer, AttemptItem, AttemptStatus
from certify.extensions import db
from tests.factories import make_user


@pytest.fixture
def paper(exam, worker):
    attempt = services.start_attempt(exam, worker)
    db.session.commit()
    items = db.session.scalars(
        sa.select(AttemptItem).where(AttemptItem.attempt_id == attempt.id)
    ).all()
    single = next(i for i in items if i.version.type is QuestionType.SINGLE)
    return attempt, items, single


def stored(attempt_id: int) -> dict[int, list[str]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(AttemptAnswer.question_id, AttemptAnswer.chosen).where(
            AttemptAnswer.attempt_id == attempt_id
        )
    )
    return {question: list(chosen) for question, chosen in rows}


def test_the_plain_case_is_saved_and_a_second_choice_replaces_the_first(paper, token, frozen_clock):
    attempt, _items, single = paper
    keys = [o["key"] for o in single.version.options]
    saved_at = save_answer_quickly(token, attempt.id, single.position, [keys[0]])
    assert saved_at == frozen_clock.now()
    assert save_answer_quickly(token, attempt.id, single.position, [keys[1]]) == saved_at
    assert stored(attempt.id) == {single.question_id: [keys[1]]}


def test_every_unusual_case_is_left_to_the_full_path(paper, token, worker, frozen_clock):
    attempt, items, single = paper
    key = single.version.options[0]["key"]
    other = make_user(Role.WORKER, username="w2")
    other_token, _ = issue_token(other)
    db.session.commit()
    not_on_paper = max(i.position for i in items) + 1
    cases = {
        "unknown token": ("nope", attempt.id, single.position, [key]),
        "someone else's token": (other_token, attempt.id, single.position, [key]),
        "no such attempt": (token, attempt.id + 1, single.position, [key]),
        "not on the paper": (token, attempt.id, not_on_paper, [key]),
        "not an option": (token, attempt.id, single.position, ["Z"]),
        "two for a single": (token, attempt.id, single.position, ["A", "B"]),
        "the same twice": (token, attempt.id, single.position, [key, key]),
    }
    for name, args in cases.items():
        assert save_answer_quickly(*args) is None, name
    worker.active = False
    db.session.commit()
    assert save_answer_quickly(token, attempt.id, single.position, [key]) is None
    worker.active = True
    db.session.commit()
    frozen_clock.advance(hours=13)  # past the token's life and the attempt's deadline
    assert save_answer_quickly(token, attempt.id, single.position, [key]) is None
    assert stored(attempt.id) == {}


def test_nothing_is_saved_once_the_deadline_has_passed_or_the_paper_is_in(
    paper, token, frozen_clock
):
    attempt, _items, single = paper
    key = single.version.options[0]["key"]
    frozen_clock.advance(minutes=90)
    assert save_answer_quickly(token, attempt.id, single.position, [key]) is None
    frozen_clock.advance(minutes=-1)
    services.submit_attempt(attempt)
    db.session.commit()
    assert save_answer_quickly(token, attempt.id, single.position, [key]) is None
    assert stored(attempt.id) == {}


@pytest.mark.parametrize("path", ["fast", "full"])
def test_an_acknowledged_answer_is_always_graded_even_when_it_races_the_submission(
    app, paper, token, path, monkeypatch
):
    """Workers answer correctly while a submission lands: credited answers == acknowledged ones."""
    if path == "full":
        monkeypatch.setattr("certify.api.views.save_answer_quickly", lambda *args: None)
    attempt, items, _single = paper
    attempt_id = attempt.id
    correct = {i.question_id: list(i.version.correct) for i in items}
    position = {i.question_id: i.position for i in items}
    acknowledged, refused = [], []

    def answer(question_ids):
        client = app.test_client()
        for question_id in question_ids:
            response = client.put(
                f"/api/v1/attempts/{attempt_id}/answers/{position[question_id]}",
                json={"answer": correct[question_id]},
                headers={"Authorization": f"Bearer {token}"},
            )
            (acknowledged if response.status_code == 200 else refused).append(question_id)
            assert response.status_code in (200, 409), response.get_data(as_text=True)

    def hand_in():
        client = app.test_client()
        response = client.post(
            f"/api/v1/attempts/{attempt_id}/submit", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200

    question_ids = list(correct)
    workers = [threading.Thread(target=answer, args=(question_ids[n::4],)) for n in range(4)]
    for thread in workers:
        thread.start()
    submitter = threading.Timer(0.05, hand_in)
    submitter.start()
    for thread in [*workers, submitter]:
        thread.join()
    db.session.expire_all()
    graded = db.session.scalars(
        sa.select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)
    ).all()
    credited = {i.question_id for i in graded if i.earned_hundredths}
    assert credited == set(acknowledged)
    assert set(stored(attempt_id)) == set(acknowledged)
    assert len(acknowledged) + len(refused) == len(question_ids)
    assert graded and db.session.get(type(attempt), attempt_id).status is AttemptStatus.GRADED


def test_the_api_uses_the_full_path_for_errors(api, paper, frozen_clock):
    attempt, _items, single = paper
    url = f"/attempts/{attempt.id}/answers/{single.position}"
    frozen_clock.advance(minutes=90, seconds=1)
    late = api("PUT", url, {"answer": [single.version.options[0]["key"]]})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "past_deadline"
    db.session.expire_all()
    assert db.session.get(type(attempt), attempt.id).status is AttemptStatus.GRADED
    assert timedelta(0) < frozen_clock.now() - attempt.deadline


def test_a_save_after_a_database_restart_still_lands(api, paper):
    """The fast path's pool does not ping: a dead connection must fall back, not fail."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("terminating server connections is a PostgreSQL test")
    attempt, items, _single = paper
    saves = [
        (f"/attempts/{attempt.id}/answers/{item.position}", item.version.display_options[0])
        for item in items[:2]
    ]
    assert api("PUT", saves[0][0], {"answer": [saves[0][1]["key"]]}).status_code == 200
    db.session.close()  # the test's own connection goes back to the (pinging) pool
    with db.engine.connect() as conn:  # what a restart does to every pooled connection
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    saved = api("PUT", saves[1][0], {"answer": [saves[1][1]["key"]]})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert set(stored(attempt.id)) == {items[0].question_id, items[1].question_id}
