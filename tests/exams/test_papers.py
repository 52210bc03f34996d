"""Drawing papers: the per-process pool follows every change to the bank, and the mix steers."""

import random
from collections import Counter

import sqlalchemy as sa

from certify.banks import services as banks
from certify.banks.models import Question, QuestionStatus
from certify.exams import papers, services
from certify.exams.models import AttemptItem
from certify.exams.papers import _Candidate, _weighted_sample, draw_paper, pool_texts
from certify.extensions import db


def _unshown_question(trade) -> Question:
    shown = set(db.session.scalars(sa.select(AttemptItem.question_id)))
    return next(
        q
        for q in db.session.scalars(
            sa.select(Question)
            .where(Question.trade_id == trade.id, Question.status == QuestionStatus.ACTIVE)
            .order_by(Question.id)
        )
        if q.id not in shown and q.current.type.value == "single"
    )


def _edit(question, **changes):
    version = question.current
    values = {
        "type": version.type,
        "stem": version.stem,
        "options": [(o["key"], o["text"]) for o in version.options],
        "correct": list(version.correct),
        "area_id": version.area_id,
        "difficulty": version.difficulty,
    }
    values.update(changes)
    return banks.edit_question(question, banks.QuestionEdit(**values))


def test_the_pool_follows_edits_in_place_under_a_frozen_clock(exam, worker, trade):
    services.start_attempt(exam, worker)  # warms this process's pool
    db.session.commit()
    question = _unshown_question(trade)
    before = pool_texts(trade.id)[question.current.id]
    # The clock is frozen, so updated_at does not move: the texts must be noticed anyway.
    texts = [o["text"] for o in question.current.options]
    options = [("A", texts[0]), ("C", texts[1]), *[("DEF"[n], t) for n, t in enumerate(texts[2:])]]
    version = _edit(question, stem="新的题干：托盘的用途是什么？", options=options, correct=["A"])
    db.session.commit()
    assert version.id == question.current.id  # never shown: changed in place
    _kind, stem, shown_options = pool_texts(trade.id)[version.id]
    assert stem == "新的题干：托盘的用途是什么？" != before[1]
    assert [o["key"] for o in shown_options][:2] == ["A", "C"]
    cells = papers._pool(trade.id).cells.values()
    candidate = next(c for cell in cells for c in cell if c.version_id == version.id)
    assert candidate.option_keys[:2] == ("A", "C")


def test_a_difficulty_change_alone_reaches_the_pool(exam, worker, trade):
    question = _unshown_question(trade)
    pool_texts(trade.id)
    new = 5 if question.current.difficulty != 5 else 4
    _edit(question, difficulty=new)
    db.session.commit()
    candidate = next(
        c
        for cell in papers._pool(trade.id).cells.values()
        for c in cell
        if c.question_id == question.id
    )
    assert candidate.difficulty == new


def test_retired_questions_leave_the_pool_and_come_back(exam, worker, trade):
    question = _unshown_question(trade)
    version_id = question.current.id
    assert version_id in pool_texts(trade.id)
    banks.retire_question(question)
    db.session.commit()
    assert version_id not in pool_texts(trade.id)
    drawn = {i.question_id for seed in range(1, 30) for i in draw_paper(exam.blueprint, seed)}
    assert question.id not in drawn
    banks.reactivate_question(question)
    db.session.commit()
    assert version_id in pool_texts(trade.id)


def test_a_paper_shows_texts_of_versions_no_longer_current(exam, worker, trade):
    attempt = services.start_attempt(exam, worker)
    db.session.commit()
    item = attempt.items[0]
    question = db.session.get(Question, item.question_id)
    banks.retire_question(question)
    db.session.commit()
    shown = services.shown_questions([item.version_id], trade.id)
    assert shown[item.version_id].stem == item.version.stem


def _per_item_reference(rng, items, k, mix):
    """The draw as first written: every item weighed at every pick (slow, obviously right)."""
    chosen, left, counts = [], list(items), Counter()
    for _ in range(k):
        have = {d: counts[d] / max(1, len(chosen)) for d in (1, 2, 3)}
        weights = [
            max(0.05, mix.get(v.difficulty, 0) / 100 - have[v.difficulty] + 0.05) for v in left
        ]
        pick = rng.choices(left, weights=weights, k=1)[0]
        left.remove(pick)
        chosen.append(pick)
        counts[pick.difficulty] += 1
    return chosen


def _shares(draw, items, mix, runs=1000):
    totals: Counter[int] = Counter()
    for seed in range(runs):
        picked = draw(random.Random(seed), items, 10, mix)
        assert len({p.version_id for p in picked}) == 10  # distinct
        totals.update(p.difficulty for p in picked)
    return {d: totals[d] / (10 * runs) for d in (1, 2, 3)}


def test_the_mix_steers_the_draw_with_the_same_odds_as_weighing_every_item():
    # 60 easy, 30 medium, 10 hard in the bank; the mix asks for 20 % / 30 % / 50 %.
    items = [_Candidate(i, i, 1 if i < 60 else 2 if i < 90 else 3, ()) for i in range(100)]
    mix = {1: 20, 2: 30, 3: 50}
    steered = _shares(_weighted_sample, items, mix)
    plain = _shares(_weighted_sample, items, {})
    assert plain[3] < 0.13 and plain[1] > 0.55  # no mix: the bank's own shares
    assert steered[3] > 2 * plain[3] and steered[1] < plain[1] - 0.15
    reference = _shares(_per_item_reference, items, mix)
    for difficulty in (1, 2, 3):
        assert abs(steered[difficulty] - reference[difficulty]) < 0.02
