"""Reports of a session for trainers and the office: distribution, pass rate, item analysis."""

from __future__ import annotations

import io
from dataclasses import dataclass

import sqlalchemy as sa

from certify.banks.models import Question
from certify.core.masking import mask_id_number
from certify.core.spreadsheets import append_row
from certify.exams.analysis import ItemStats, Response, item_analysis, score_histogram, summary
from certify.exams.models import Attempt, AttemptStatus, ExamSession
from certify.extensions import db
from certify.results.services import session_results


@dataclass
class SessionReport:
    summary: dict
    histogram: list[tuple[str, int]]
    items: list[tuple[ItemStats, Question]]

    @property
    def flagged(self) -> list[tuple[ItemStats, Question]]:
        return [(s, q) for s, q in self.items if s.flags]


def session_report(exam: ExamSession) -> SessionReport:
    attempts = db.session.scalars(
        sa.select(Attempt).where(
            Attempt.session_id == exam.id, Attempt.status == AttemptStatus.GRADED
        )
    ).all()
    responses = [
        Response(
            candidate=a.user_id,
            total=a.score or 0,
            items={
                i.question_id: (i.earned_hundredths or 0) / i.points_hundredths for i in a.items
            },
        )
        for a in attempts
    ]
    scores = [a.score or 0 for a in attempts]
    stats = item_analysis(responses)
    questions = {
        q.id: q
        for q in db.session.scalars(
            sa.select(Question).where(Question.id.in_([s.question_id for s in stats] or [-1]))
        )
    }
    return SessionReport(
        summary(scores, exam.blueprint.pass_mark),
        score_histogram(scores),
        [(s, questions[s.question_id]) for s in stats],
    )


def results_xlsx(exam: ExamSession) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "成绩"
    append_row(sheet, ["姓名", "证件号码", "理论成绩", "实操成绩", "结果", "状态"])
    for result in session_results(exam):
        append_row(
            sheet,
            [
                result.user.name,
                mask_id_number(result.user.id_number or ""),
                result.theory,
                result.practical,
                result.outcome.chinese,
                str(result.status.label),
            ],
        )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
