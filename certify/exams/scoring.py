"""Scoring a handed-in paper: each item's points, the total and the score by knowledge area.

On an exam day the hand-ins come in a wave: everyone started within the same minute and
the paper's time runs out for all of them together. Walking the paper through the ORM (a
lazy load of each item's version and area, then an UPDATE per item) cost ~100 ms of
server time a paper, and 2,000 of them in three minutes held up everyone's autosave
(bench/exam_load.py). So the paper is read in one query, the area tree a level a query,
and the items' points written in one statement.
"""

from __future__ import annotations

from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from certify.banks.models import QuestionVersion
from certify.catalog.models import KnowledgeArea
from certify.core import clock
from certify.exams.grading import grade
from certify.exams.models import Attempt, AttemptAnswer, AttemptItem
from certify.extensions import db

_PG_STORE_EARNED = sa.text(
    """
    UPDATE attempt_items AS i SET earned_hundredths = t.earned
      FROM unnest(CAST(:positions AS integer[]), CAST(:earned AS integer[]))
           AS t(position, earned)
     WHERE i.attempt_id = :attempt AND i.position = t.position
    """
)


def saved_answers(attempt: Attempt) -> dict[int, list[str]]:
    """Each question's latest saved choice: what the page resumes with and what is scored."""
    rows = db.session.execute(
        sa.select(AttemptAnswer.question_id, AttemptAnswer.chosen).where(
            AttemptAnswer.attempt_id == attempt.id
        )
    )
    return {qid: list(chosen) for qid, chosen in rows}


def answers_by_position(attempt: Attempt) -> dict[int, list[str]]:
    """The saved choices keyed by the question's number on this paper: the only id a
    candidate's page or API client ever sees (a bank id would open practice pages)."""
    rows = db.session.execute(
        sa.select(AttemptItem.position, AttemptAnswer.chosen)
        .join(
            AttemptItem,
            sa.and_(
                AttemptItem.attempt_id == AttemptAnswer.attempt_id,
                AttemptItem.question_id == AttemptAnswer.question_id,
            ),
        )
        .where(AttemptAnswer.attempt_id == attempt.id)
    )
    return {position: list(chosen) for position, chosen in rows}


def grade_attempt(attempt: Attempt) -> Attempt:
    """Score the attempt's paper against the answers saved; the attempt is then graded."""
    answers = saved_answers(attempt)
    mode = attempt.session.blueprint.trade.multiple_scoring or "exact"
    paper = db.session.execute(
        sa.select(
            AttemptItem.position,
            AttemptItem.question_id,
            AttemptItem.points_hundredths,
            QuestionVersion.type,
            QuestionVersion.correct,
            QuestionVersion.area_id,
        )
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
        .where(AttemptItem.attempt_id == attempt.id)
        .order_by(AttemptItem.position)
    ).all()
    roots = area_roots({row.area_id for row in paper})
    total = Fraction(0)
    earned_at: dict[int, int] = {}  # by position on the paper
    areas: dict[int, list] = {}
    for position, question_id, points, q_type, correct, area_id in paper:
        earned = grade(q_type, correct, answers.get(question_id, []), mode=mode) * points
        earned_at[position] = round(earned)
        total += earned
        root_id, root_name = roots[area_id]
        got = areas.setdefault(root_id, [root_name, Fraction(0), 0])
        got[1] += earned
        got[2] += points
    _store_earned(attempt.id, earned_at)
    attempt.score_hundredths = round(total)
    attempt.by_area = [
        {
            "area": name,
            "score": float(got) / 100,
            "max": full / 100,
            "pct": round(100 * got / full) if full else 0,
        }
        for name, got, full in areas.values()
    ]
    attempt.mark_graded(clock.now())
    return attempt


def area_roots(area_ids: set[int]) -> dict[int, tuple[int, str]]:
    """Each area's top-level area (id, name): what a paper's score is broken down by."""
    known: dict[int, tuple[int | None, str]] = {}
    wanted = set(area_ids)
    while wanted:  # one query per level of the tree (three or four)
        rows = db.session.execute(
            sa.select(KnowledgeArea.id, KnowledgeArea.parent_id, KnowledgeArea.name).where(
                KnowledgeArea.id.in_(wanted)
            )
        )
        known.update({area_id: (parent, name) for area_id, parent, name in rows})
        wanted = {p for p, _name in known.values() if p is not None and p not in known}

    def root(area_id: int) -> tuple[int, str]:
        while known[area_id][0] is not None:
            area_id = known[area_id][0]
        return area_id, known[area_id][1]

    return {area_id: root(area_id) for area_id in area_ids}


def _store_earned(attempt_id: int, earned_at: dict[int, int]) -> None:
    if not earned_at:
        return
    if db.engine.dialect.name == "postgresql":
        params = {
            "attempt": attempt_id,
            "positions": list(earned_at),
            "earned": list(earned_at.values()),
        }
        db.session.execute(_PG_STORE_EARNED, params)
    else:
        table = AttemptItem.__table__
        db.session.execute(
            table.update()
            .where(table.c.attempt_id == attempt_id, table.c.position == sa.bindparam("at"))
            .values(earned_hundredths=sa.bindparam("earned")),
            [{"at": position, "earned": earned} for position, earned in earned_at.items()],
        )
    # Items this session has loaded already show their points, as if the ORM had set them.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, AttemptItem):
            owner, position = sa.inspect(obj).identity  # reading obj's columns may load it
            if owner == attempt_id and position in earned_at:
                set_committed_value(obj, "earned_hundredths", earned_at[position])
