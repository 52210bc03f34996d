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


def test_a_missed_question_comes_back_when_it_is_due(worker, trade, frozen_clock):
    question = _first_question(trade)
    version = question.current
    services.answer_practice(worker, question, [_wrong_key(version)])
    db.session.commit()
    assert services.wrong_question_ids(worker, trade) == [question.id]
    assert services.due_question_ids(worker, trade) == []  # missed today: back tomorrow
    frozen_clock.advance(days=1)
    assert services.due_question_ids(worker, trade) == [question.id]
    services.answer_practice(worker, question, list(version.correct))
    db.session.commit()
    assert services.due_question_ids(worker, trade) == []
    frozen_clock.advance(days=1)
    assert services.due_question_ids(worker, trade) == []  # right once: away for longer
    frozen_clock.advance(days=1)
    assert services.due_question_ids(worker, trade) == [question.id]
    services.answer_practice(worker, question, [_wrong_key(version)])  # missed again
    frozen_clock.advance(days=1)
    assert services.due_question_ids(worker, trade) == [question.id]
    services.mark_mastered(worker, question.id)
    assert services.due_question_ids(worker, trade) == []


def test_readiness_per_area_is_said_plainly(worker, trade):
    from certify.training.services import AreaProgress, Readiness

    area = trade.root_areas[0]
    assert AreaProgress(area, 40, 0, 0).readiness is Readiness.NOT_STARTED
    assert AreaProgress(area, 40, 4, 4).readiness is Readiness.FEW_TRIED
    assert AreaProgress(area, 40, 12, 11).readiness is Readiness.GOOD
    assert AreaProgress(area, 40, 12, 8).readiness is Readiness.NEARLY
    assert AreaProgress(area, 40, 12, 5).readiness is Readiness.PRACTISE_MORE
    assert AreaProgress(area, 5, 5, 5).readiness is Readiness.GOOD  # a small part, all tried


def test_feedback_marks_the_pick_and_the_key_and_names_them_by_letter(
    client, login, worker, trade, frozen_clock
):
    from tests.pages import visible_text

    login(worker.username, "my-own-pass-1")
    question = db.session.scalar(
        sa.select(Question)
        .where(Question.trade_id == trade.id)
        .order_by(Question.id)
        .limit(1)
        .offset(0)
    )
    version = question.current
    keys = [o["key"] for o in version.display_options]
    letter = {k: "ABCDEFGH"[i] for i, k in enumerate(keys)}
    wrong = _wrong_key(version)
    html = client.post(
        f"/learn/{trade.code}/practice/{question.id}",
        data={"answer": wrong, "mode": "order", "i": "0"},
    ).get_data(as_text=True)
    text = visible_text(html)
    if version.type.value == "true_false":
        assert "你选了" in text and "正确答案是" in text
    else:
        right = "".join(letter[k] for k in version.correct)
        assert f"你选了 {letter[wrong]}，正确答案是 {right}。" in text
    assert "✗ 你的选择" in text and "✓ 正确答案" in text
    assert html.count("is-wrong") == 1 and html.count("is-right") == len(version.correct)
    frozen_clock.advance(days=1)
    home = visible_text(client.get("/learn/").get_data(as_text=True))
    assert "今天要复习 1 题" in home and "做得还少" in home
    book = visible_text(client.get(f"/learn/{trade.code}/wrong-book").get_data(as_text=True))
    assert "今天要复习 1 题" in book and "今天复习" in book
    due = client.get(f"/learn/{trade.code}/practice?mode=due").get_data(as_text=True)
    assert version.stem in due and "第 1 题，共 1 题" in visible_text(due)
