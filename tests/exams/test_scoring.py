"""Scoring a handed-in paper in a few statements gives what walking it item by item gave."""

import random
from fractions import Fraction

import pytest
import sqlalchemy as sa

from certify.exams import services
from certify.exams.grading import grade
from certify.exams.models import AttemptItem
from certify.extensions import db


def scored_one_by_one(attempt, mode):
    """The reference: every item through the ORM, its area's root by walking up."""
    answers = services.saved_answers(attempt)
    total, areas, earned = Fraction(0), {}, {}
    for item in attempt.items:
        version = item.version
        share = grade(version.type, version.correct, answers.get(item.question_id, []), mode=mode)
        points = share * item.points_hundredths
        earned[item.position] = round(points)
        total += points
        root = version.area.ancestors[0] if version.area.ancestors else version.area
        got = areas.setdefault(root.id, [root.name, Fraction(0), 0])
        got[1] += points
        got[2] += item.points_hundredths
    by_area = [
        {"area": n, "score": float(g) / 100, "max": f / 100, "pct": round(100 * g / f)}
        for n, g, f in areas.values()
    ]
    return round(total), by_area, earned


@pytest.mark.parametrize("mode", ["exact", "partial"])
def test_a_paper_scores_as_walking_it_item_by_item(exam, worker, trade, mode):
    trade.multiple_scoring = mode
    attempt = services.start_attempt(exam, worker)
    rng = random.Random(7)
    for item in attempt.items[:80]:  # ten left blank
        keys = [o["key"] for o in item.version.display_options]
        chosen = list(item.version.correct) if rng.random() < 0.6 else rng.sample(keys, 1)
        if item.version.type.value == "multiple" and rng.random() < 0.5:
            chosen = list(item.version.correct)[:1]  # half right: counts only as partial
        services.save_answer(attempt, item.position, chosen)
    db.session.commit()
    expected_total, expected_areas, expected_earned = scored_one_by_one(attempt, mode)
    assert len({row["area"] for row in expected_areas}) > 1  # several top-level areas

    services.submit_attempt(attempt)
    assert attempt.score_hundredths == expected_total
    assert attempt.by_area == expected_areas
    assert {i.position: i.earned_hundredths for i in attempt.items} == expected_earned
    db.session.commit()
    db.session.expire_all()
    stored = dict(
        db.session.execute(
            sa.select(AttemptItem.position, AttemptItem.earned_hundredths).where(
                AttemptItem.attempt_id == attempt.id
            )
        ).all()
    )
    assert stored == expected_earned and 0 < expected_total < 10000


def test_items_already_loaded_show_their_points_after_the_hand_in(exam, worker):
    attempt = services.start_attempt(exam, worker)
    first = db.session.scalar(  # loaded on its own, as save_answer does, not as attempt.items
        sa.select(AttemptItem).where(
            AttemptItem.attempt_id == attempt.id, AttemptItem.position == 1
        )
    )
    services.save_answer(attempt, first.position, list(first.version.correct))
    assert first.earned_hundredths is None
    services.submit_attempt(attempt)
    assert first.earned_hundredths == first.points_hundredths
