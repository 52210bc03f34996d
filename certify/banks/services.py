"""Writes and reads of question banks. Views, CLI and demo data come through here."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import selectinload

from certify.audit.services import record_event
from certify.banks.formats.common import ParsedOption, ParsedQuestion
from certify.banks.models import Question, QuestionStatus, QuestionVersion
from certify.banks.types import QuestionType
from certify.banks.validation import fingerprint, question_problems
from certify.catalog.models import KnowledgeArea, Trade
from certify.core import clock
from certify.core.errors import NotFound, Problem, ValidationFailed
from certify.core.references import count_references
from certify.extensions import db

PAGE_SIZE = 50


@dataclass
class QuestionFilter:
    area_id: int | None = None
    type: QuestionType | None = None
    difficulty: int | None = None
    status: QuestionStatus | None = QuestionStatus.ACTIVE
    search: str = ""
    page: int = 1


@dataclass
class QuestionEdit:
    type: QuestionType
    stem: str
    options: list[tuple[str, str]]  # (key, text), empty texts dropped
    correct: list[str]
    area_id: int
    difficulty: int
    explanation: str = ""
    source: str = ""
    point_code: str = ""  # 鉴定点代码


def _current_join():
    return sa.and_(
        QuestionVersion.question_id == Question.id, QuestionVersion.number == Question.version
    )


def subtree_ids(area: KnowledgeArea) -> list[int]:
    ids, stack = [], [area]
    while stack:
        node = stack.pop()
        ids.append(node.id)
        stack.extend(node.children)
    return ids


def search_questions(trade: Trade, flt: QuestionFilter) -> Pagination:
    """One page of the trade's questions that match, PAGE_SIZE a page; a page number past
    the end shows the last page."""
    stmt = (
        sa.select(Question)
        .join(QuestionVersion, _current_join())
        .where(Question.trade_id == trade.id)
    )
    if flt.status is not None:
        stmt = stmt.where(Question.status == flt.status)
    if flt.type is not None:
        stmt = stmt.where(QuestionVersion.type == flt.type)
    if flt.difficulty is not None:
        stmt = stmt.where(QuestionVersion.difficulty == flt.difficulty)
    if flt.area_id is not None:
        area = db.session.get(KnowledgeArea, flt.area_id)
        if area is not None and area.trade_id == trade.id:
            stmt = stmt.where(QuestionVersion.area_id.in_(subtree_ids(area)))
    if flt.search.strip():
        like = f"%{flt.search.strip()}%"
        stmt = stmt.where(
            sa.or_(QuestionVersion.stem.ilike(like), QuestionVersion.explanation.ilike(like))
        )
    current = selectinload(Question.current).selectinload(QuestionVersion.area)
    stmt = stmt.options(current).order_by(Question.id)
    pagination = db.paginate(stmt, page=flt.page, per_page=PAGE_SIZE, error_out=False)
    last = max(pagination.pages, 1)
    if pagination.page > last:
        pagination = db.paginate(stmt, page=last, per_page=PAGE_SIZE, error_out=False)
    return pagination


def active_counts(trade: Trade) -> dict[int, Counter[QuestionType]]:
    """Active questions per knowledge area (leaf and every ancestor), by type."""
    rows = db.session.execute(
        sa.select(QuestionVersion.area_id, QuestionVersion.type, sa.func.count())
        .join(Question, _current_join())
        .where(Question.trade_id == trade.id, Question.status == QuestionStatus.ACTIVE)
        .group_by(QuestionVersion.area_id, QuestionVersion.type)
    )
    by_id = {area.id: area for area in trade.areas}
    counts: dict[int, Counter[QuestionType]] = defaultdict(Counter)
    for area_id, q_type, n in rows:
        node = by_id.get(area_id)
        while node is not None:
            counts[node.id][q_type] += n
            node = node.parent
    return counts


def bank_totals(trade: Trade) -> Counter[str]:
    rows = db.session.execute(
        sa.select(Question.status, QuestionVersion.type, sa.func.count())
        .join(QuestionVersion, _current_join())
        .where(Question.trade_id == trade.id)
        .group_by(Question.status, QuestionVersion.type)
    )
    totals: Counter[str] = Counter()
    for status, q_type, n in rows:
        totals[str(status)] += n
        if status is QuestionStatus.ACTIVE:
            totals[str(q_type)] += n
    return totals


def active_versions(trade: Trade) -> list[QuestionVersion]:
    return list(
        db.session.scalars(
            sa.select(QuestionVersion)
            .join(Question, _current_join())
            .where(Question.trade_id == trade.id, Question.status == QuestionStatus.ACTIVE)
            .options(selectinload(QuestionVersion.area))
            .order_by(Question.id)
        )
    )


def get_question(trade: Trade, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.trade_id != trade.id:
        raise NotFound(_("No such question in this bank."), code="question_not_found")
    return question


def version_was_shown(version: QuestionVersion) -> bool:
    """Has any attempt (or anything else) referred to this exact version?"""
    return bool(
        count_references({"question_versions": [version.id]}, skip=frozenset({"question_versions"}))
    )


def _snapshot(version: QuestionVersion) -> dict[str, object]:
    return {
        "version": version.number,
        "type": str(version.type),
        "stem": version.stem,
        "options": version.options,
        "correct": version.correct,
        "area": version.area.path if version.area else None,
        "difficulty": version.difficulty,
        "explanation": version.explanation,
        "source": version.source,
        "point_code": version.point_code,
    }


def edit_question(question: Question, edit: QuestionEdit, actor=None) -> QuestionVersion:
    """Change a question. A version an attempt has shown stays as it was: a new one is made."""
    values = _checked_edit(question, edit)
    current = question.current
    before = _snapshot(current)
    if version_was_shown(current):
        version = QuestionVersion(
            question=question,
            number=current.number + 1,
            title=current.title,
            created_at=clock.now(),
            created_by_id=getattr(actor, "id", None),
            **values,
        )
        db.session.add(version)
        question.version = version.number
    else:
        version = current
        for key, value in values.items():
            setattr(version, key, value)
    question.updated_at = clock.now()
    db.session.flush()
    db.session.expire(question, ["current"])
    after = _snapshot(version)
    if after != before:
        record_event("question.edited", question, before=before, after=after, actor=actor)
    return version


def _checked_edit(question: Question, edit: QuestionEdit) -> dict[str, object]:
    """The version's new values, checked by the rules an import checks, plus the trade's
    areas and the bank's duplicates; ValidationFailed with every problem otherwise."""
    options = (
        []
        if edit.type is QuestionType.TRUE_FALSE
        else [(k, t.strip()) for k, t in edit.options if t and t.strip()]
    )
    parsed = ParsedQuestion(
        number=0,
        type=edit.type,
        stem=edit.stem,
        options=[ParsedOption(k, t) for k, t in options],
        correct=sorted(edit.correct),
        difficulty=edit.difficulty,
        explanation=edit.explanation,
        source=edit.source,
        point_code=edit.point_code,
    )
    problems = [Problem(fld, msg) for fld, msg in question_problems(parsed)]
    area = db.session.get(KnowledgeArea, edit.area_id)
    if area is None or area.trade_id != question.trade_id:
        problems.append(Problem("知识点", _("Choose a knowledge area of this trade.")))
    fp = fingerprint(parsed.type, parsed.stem, [o.text for o in parsed.options])
    clash = db.session.scalar(
        sa.select(Question.id)
        .join(QuestionVersion, _current_join())
        .where(
            Question.trade_id == question.trade_id,
            Question.id != question.id,
            QuestionVersion.fingerprint == fp,
        )
    )
    if clash is not None:
        problems.append(
            Problem("题干", _("Question %(id)d already has this text and these options.", id=clash))
        )
    if problems:
        raise ValidationFailed(problems)
    return {
        "type": parsed.type,
        "stem": parsed.stem.strip(),
        "options": [{"key": k, "text": t} for k, t in options],
        "correct": parsed.correct,
        "area": area,
        "difficulty": edit.difficulty,
        "explanation": (edit.explanation or "").strip(),
        "source": (edit.source or "").strip(),
        "point_code": (edit.point_code or "").strip(),
        "fingerprint": fp,
    }


def retire_question(question: Question, actor=None) -> None:
    question.retire()
    record_event("question.retired", question, actor=actor)


def mark_exam_only(question: Question, exam_only: bool, actor=None) -> None:
    """仅用于考试: the question never appears in practice or mock exams, so a worker meets it
    first in the exam; exams draw it as before."""
    question.set_exam_only(exam_only)
    record_event(
        "question.exam_only",
        question,
        actor=actor,
        before={"exam_only": not exam_only},
        after={"exam_only": exam_only},
    )


def reactivate_question(question: Question, actor=None) -> None:
    question.reactivate()
    record_event("question.reactivated", question, actor=actor)
