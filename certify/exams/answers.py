"""How workers answered each question in graded exams, for the bank's lint (banks.lint):
registered with it by the app factory, since the banks sit below the exams."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from certify.banks.models import ExamBlueprint
from certify.catalog.models import Trade
from certify.exams.models import Attempt, AttemptAnswer, AttemptItem, ExamSession
from certify.extensions import db


def exam_answers(trade: Trade) -> Iterator[tuple[int, list[str], bool]]:
    """(question id, options picked, right) for every item of every graded paper of the trade;
    an item left blank counts as answered wrong, with nothing picked."""
    rows = db.session.execute(
        sa.select(
            AttemptItem.question_id,
            AttemptAnswer.chosen,
            AttemptItem.earned_hundredths,
            AttemptItem.points_hundredths,
        )
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .join(ExamSession, ExamSession.id == Attempt.session_id)
        .join(ExamBlueprint, ExamBlueprint.id == ExamSession.blueprint_id)
        .outerjoin(
            AttemptAnswer,
            sa.and_(
                AttemptAnswer.attempt_id == AttemptItem.attempt_id,
                AttemptAnswer.question_id == AttemptItem.question_id,
            ),
        )
        .where(ExamBlueprint.trade_id == trade.id, AttemptItem.earned_hundredths.is_not(None))
        .execution_options(yield_per=2000)
    )
    for question_id, chosen, earned, points in rows:
        yield question_id, list(chosen or []), earned == points
