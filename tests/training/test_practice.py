import re

import sqlalchemy as sa

from certify.banks.models import Question
from certify.extensions import db
from certify.training import services
from certify.training.models import PracticeAnswer, WrongBookEntry


def _first_question(trade):
    return db.session.scalar(
        sa.select(Question).where(Question.trade_id == trade.id).order_by(Question.id)
    )


def _wrong_key(version):
    keys = [o["key"] for o in version.display_options]
    return next(k for k in keys if [k] != version.correct)


def test_practice_gives_instant_feedback_and_fills_the_wrong_answer_book(worker, trade):
    question = _first_question(trade)
    version = question.current
    miss = services.answer_practice(worker, question, [_wrong_key(version)])
    assert not miss.correct and miss.answer == version.correct and miss.explanation
    services.answer_practice(worker, question, [_wrong_key(version)])
    hit = services.answer_practice(worker, question, list(version.correct))
    db.session.commit()
    assert hit.correct
    entry = db.session.get(WrongBookEntry, (worker.id, question.id))
    assert entry.miss_count == 2 and not entry.mastered
    assert services.wrong_question_ids(worker, trade) == [question.id]
    services.mark_mastered(worker, question.id)
    assert services.wrong_question_ids(worker, trade) == []
    services.answer_practice(worker, question, [_wrong_key(version)])  # missed again
    assert services.wrong_question_ids(worker, trade) == [question.id]
    assert db.session.get(WrongBookEntry, (worker.id, question.id)).miss_count == 3


def test_progress_per_area_counts_the_last_answer(worker, trade):
    question = _first_question(trade)
    version = question.current
    services.answer_practice(worker, question, [_wrong_key(version)])
    services.answer_practice(worker, question, list(version.correct))
    rows = {p.area.name: p for p in services.progress(worker, trade)}
    root = version.area.ancestors[0].name
    assert rows[root].tried == 1 and rows[root].right == 1 and rows[root].right_pct == 100
    assert sum(p.total for p in rows.values()) >= 300


def test_practice_pages_work_without_javascript(client, login, worker, trade):
    login(worker.username, "my-own-pass-1")
    page = client.get(f"/learn/{trade.code}/practice").get_data(as_text=True)
    assert "第 1 题，共" in page and "is-right" not in page
    question_id = int(re.search(r"/practice/(\d+)\"", page).group(1))
    question = db.session.get(Question, question_id)
    wrong = _wrong_key(question.current)
    feedback = client.post(
        f"/learn/{trade.code}/practice/{question_id}",
        data={"answer": wrong, "mode": "order", "i": "0"},
    ).get_data(as_text=True)
    assert "不对" in feedback and question.current.explanation in feedback
    book = client.get(f"/learn/{trade.code}/wrong-book").get_data(as_text=True)
    assert question.current.stem in book and "错了 1 次" in book
    client.post(f"/learn/{trade.code}/wrong-book/{question_id}/mastered")
    assert question.current.stem not in client.get(f"/learn/{trade.code}/wrong-book").get_data(
        as_text=True
    )
    shuffled = client.get(f"/learn/{trade.code}/practice?mode=random&round=7")
    assert shuffled.status_code == 200
    home = client.get("/learn/").get_data(as_text=True)
    assert "<svg" in home and "仓库保管员" in home


def test_an_empty_answer_is_asked_for_again(client, login, worker, trade):
    login(worker.username, "my-own-pass-1")
    question = _first_question(trade)
    response = client.post(f"/learn/{trade.code}/practice/{question.id}", data={"i": "0"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PracticeAnswer)) == 0


def test_workers_practise_only_the_trades_of_their_classes(client, login, worker):
    from certify.catalog.models import CertificateType
    from tests.factories import make_trade

    other = make_trade("electroplater", name="电镀工", certificate_type=CertificateType.SPECIAL)
    login(worker.username, "my-own-pass-1")
    assert client.get(f"/learn/{other.code}/practice").status_code == 403
    assert client.get("/cohorts/").status_code == 403
