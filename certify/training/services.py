"""Practice, the wrong-answer book, progress, materials and mock exams for workers."""

from __future__ import annotations

import enum
import hashlib
import random
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from certify.accounts.models import Role, User
from certify.audit.services import record_event
from certify.banks.blueprints import list_blueprints
from certify.banks.models import ExamBlueprint, Question, QuestionStatus, QuestionVersion
from certify.banks.services import subtree_ids
from certify.banks.types import QuestionType
from certify.catalog.models import KnowledgeArea, Trade
from certify.cohorts.models import Cohort, Enrolment
from certify.core import clock
from certify.core.errors import Forbidden, NotFound, Problem, ValidationFailed
from certify.exams.grading import grade
from certify.exams.papers import draw_paper, new_seed
from certify.extensions import db
from certify.training.models import (
    Material,
    MaterialKind,
    MockAttempt,
    MockPaperItem,
    PracticeAnswer,
    WrongBookEntry,
)
from certify.training.review import end_of_today

MOCK_GRACE = timedelta(seconds=30)  # a submit in flight when time runs out still counts
MAX_MATERIAL_BYTES = 20 * 1024 * 1024
MATERIAL_TYPES = {  # checked by content, not by the name the browser sends
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


def learner_trades(user: User) -> list[Trade]:
    """Workers practise the trades of their classes; staff may try any trade."""
    if user.role is not Role.WORKER:
        return list(db.session.scalars(sa.select(Trade).order_by(Trade.code)))
    rows = db.session.scalars(
        sa.select(Trade)
        .join(Cohort, Cohort.trade_id == Trade.id)
        .join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(Enrolment.user_id == user.id)
        .distinct()
    )
    return sorted(rows, key=lambda t: t.code)


def check_learner(user: User, trade: Trade) -> None:
    if trade not in learner_trades(user):
        raise Forbidden(_("You are not in a class of this trade."), code="not_enrolled")


def _current():
    return sa.and_(
        QuestionVersion.question_id == Question.id, QuestionVersion.number == Question.version
    )


def practice_question_ids(trade: Trade, area: KnowledgeArea | None) -> list[int]:
    stmt = (
        sa.select(Question.id)
        .join(QuestionVersion, _current())
        .where(
            Question.trade_id == trade.id,
            Question.status == QuestionStatus.ACTIVE,
            Question.exam_only.is_(False),
        )
        .order_by(Question.id)
    )
    if area is not None:
        stmt = stmt.where(QuestionVersion.area_id.in_(subtree_ids(area)))
    return list(db.session.scalars(stmt))


def shuffled(ids: list[int], user: User, salt: str) -> list[int]:
    """A stable shuffle per worker and round, so 'next' walks one order without repeats."""
    order = list(ids)
    random.Random(f"{user.id}:{salt}").shuffle(order)
    return order


def wrong_question_ids(user: User, trade: Trade) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(WrongBookEntry.question_id)
            .join(Question, Question.id == WrongBookEntry.question_id)
            .where(
                WrongBookEntry.user_id == user.id,
                WrongBookEntry.mastered.is_(False),
                Question.trade_id == trade.id,
                Question.status == QuestionStatus.ACTIVE,
                Question.exam_only.is_(False),
            )
            .order_by(
                WrongBookEntry.due_at.is_(None),
                WrongBookEntry.due_at,
                WrongBookEntry.miss_count.desc(),
                WrongBookEntry.question_id,
            )
        )
    )


def due_question_ids(user: User, trade: Trade) -> list[int]:
    """今天要复习: the wrong-answer book's questions due by the end of the worker's day,
    the longest overdue first."""
    return list(
        db.session.scalars(
            sa.select(WrongBookEntry.question_id)
            .join(Question, Question.id == WrongBookEntry.question_id)
            .where(
                WrongBookEntry.user_id == user.id,
                WrongBookEntry.mastered.is_(False),
                WrongBookEntry.due_at <= end_of_today(),
                Question.trade_id == trade.id,
                Question.status == QuestionStatus.ACTIVE,
                Question.exam_only.is_(False),
            )
            .order_by(WrongBookEntry.due_at, WrongBookEntry.question_id)
        )
    )


def get_practice_question(trade: Trade, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.trade_id != trade.id or question.exam_only:
        raise NotFound(_("No such question."), code="question_not_found")
    return question


@dataclass
class Feedback:
    correct: bool
    chosen: list[str]
    answer: list[str]
    explanation: str


def answer_practice(user: User, question: Question, chosen: list[str]) -> Feedback:
    """Check one practice answer at once. A miss goes into the wrong-answer book, due again
    tomorrow; a question of the book answered right comes back later (training/review.py)."""
    version = question.current
    valid = {o["key"] for o in version.display_options}
    chosen = sorted({c for c in chosen if c in valid})
    if not chosen:
        raise ValidationFailed([Problem("answer", _("Choose an answer first."))])
    right = grade(version.type, version.correct, chosen) == 1
    now = clock.now()
    db.session.add(
        PracticeAnswer(
            user_id=user.id,
            question_id=question.id,
            version_id=version.id,
            area_id=version.area_id,
            chosen=chosen,
            correct=right,
            answered_at=now,
        )
    )
    entry = db.session.get(WrongBookEntry, (user.id, question.id))
    if not right:
        if entry is None:
            entry = WrongBookEntry(user_id=user.id, question_id=question.id, miss_count=0)
            db.session.add(entry)
        entry.record_miss(now)
    elif entry is not None and not entry.mastered:
        entry.record_recall(now)
    return Feedback(right, chosen, version.correct, version.explanation)


def wrong_book(user: User, trade: Trade, include_mastered: bool = False) -> list[WrongBookEntry]:
    stmt = (
        sa.select(WrongBookEntry)
        .join(Question, Question.id == WrongBookEntry.question_id)
        .where(
            WrongBookEntry.user_id == user.id,
            Question.trade_id == trade.id,
            Question.exam_only.is_(False),
        )
        .order_by(WrongBookEntry.mastered, WrongBookEntry.miss_count.desc())
    )
    if not include_mastered:
        stmt = stmt.where(WrongBookEntry.mastered.is_(False))
    return list(db.session.scalars(stmt))


def mark_mastered(user: User, question_id: int) -> None:
    entry = db.session.get(WrongBookEntry, (user.id, question_id))
    if entry is None:
        raise NotFound(_("This question is not in your wrong-answer book."), code="not_in_book")
    entry.mark_mastered(clock.now())


READY_MIN_TRIED = 10  # fewer tried questions say nothing yet
READY_GOOD_PCT = 80
READY_NEARLY_PCT = 60


class Readiness(enum.StrEnum):
    NOT_STARTED = "not_started"
    FEW_TRIED = "few_tried"
    PRACTISE_MORE = "practise_more"
    NEARLY = "nearly"
    GOOD = "good"

    @property
    def label(self) -> str:
        return {
            Readiness.NOT_STARTED: _("Not started yet"),
            Readiness.FEW_TRIED: _("Too few tried to tell: do some more"),
            Readiness.PRACTISE_MORE: _("Needs more practice"),
            Readiness.NEARLY: _("Nearly there: practise a little more"),
            Readiness.GOOD: _("You know this part well"),
        }[self]


@dataclass
class AreaProgress:
    area: KnowledgeArea
    total: int  # active questions in the area
    tried: int  # distinct questions answered
    right: int  # of those, answered right the last time

    @property
    def tried_pct(self) -> int:
        return round(100 * self.tried / self.total) if self.total else 0

    @property
    def right_pct(self) -> int:
        return round(100 * self.right / self.tried) if self.tried else 0

    @property
    def readiness(self) -> Readiness:
        """How ready the worker is in this part, said plainly: enough tried, and how much of
        it right the last time."""
        if not self.tried:
            return Readiness.NOT_STARTED
        if self.tried < min(READY_MIN_TRIED, self.total):
            return Readiness.FEW_TRIED
        if self.right_pct >= READY_GOOD_PCT:
            return Readiness.GOOD
        if self.right_pct >= READY_NEARLY_PCT:
            return Readiness.NEARLY
        return Readiness.PRACTISE_MORE


def progress(user: User, trade: Trade) -> list[AreaProgress]:
    """Per top-level area: how much of the bank was tried and how much is known."""
    last: dict[int, tuple[int, bool]] = {}
    rows = db.session.execute(
        sa.select(PracticeAnswer.question_id, PracticeAnswer.area_id, PracticeAnswer.correct)
        .join(Question, Question.id == PracticeAnswer.question_id)
        .where(PracticeAnswer.user_id == user.id, Question.trade_id == trade.id)
        .order_by(PracticeAnswer.answered_at, PracticeAnswer.id)
    )
    for question_id, area_id, correct in rows:
        last[question_id] = (area_id, correct)
    totals = Counter(
        dict(
            db.session.execute(
                sa.select(QuestionVersion.area_id, sa.func.count())
                .join(Question, _current())
                .where(
                    Question.trade_id == trade.id,
                    Question.status == QuestionStatus.ACTIVE,
                    Question.exam_only.is_(False),
                )
                .group_by(QuestionVersion.area_id)
            ).all()
        )
    )
    result = []
    for root in trade.root_areas:
        ids = set(subtree_ids(root))
        answered = [ok for area_id, ok in last.values() if area_id in ids]
        result.append(AreaProgress(root, sum(totals[i] for i in ids), len(answered), sum(answered)))
    return result


# --- materials ----------------------------------------------------------------------


def _materials_dir() -> Path:
    folder = Path(current_app.instance_path) / "materials"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _title_problems(title: str) -> list[Problem]:
    return [] if (title or "").strip() else [Problem("title", _("Give the material a title."))]


def _add_material(
    trade: Trade,
    title: str,
    cohort: Cohort | None,
    area: KnowledgeArea | None,
    actor,
    audit: dict,
    **fields,
) -> Material:
    """One place that builds, stores and audits a material, whatever its kind."""
    material = Material(
        trade=trade,
        cohort_id=cohort.id if cohort else None,
        area=area,
        title=title.strip()[:200],
        created_by_id=getattr(actor, "id", None),
        **fields,
    )
    db.session.add(material)
    record_event("material.added", material, actor=actor, after={"title": material.title, **audit})
    return material


def add_material_file(
    trade: Trade,
    title: str,
    filename: str,
    data: bytes,
    *,
    cohort: Cohort | None = None,
    area: KnowledgeArea | None = None,
    actor=None,
) -> Material:
    problems = _title_problems(title)
    if len(data) > MAX_MATERIAL_BYTES:
        problems.append(Problem("file", _("The file is larger than 20 MB.")))
    kind = next((v for magic, v in MATERIAL_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        problems.append(Problem("file", _("Only PDF, PNG and JPEG files can be uploaded.")))
    if problems:
        raise ValidationFailed(problems)
    key = f"{secrets.token_urlsafe(18)}.{kind[1]}"
    (_materials_dir() / key).write_bytes(data)
    return _add_material(
        trade,
        title,
        cohort,
        area,
        actor,
        {"sha256": hashlib.sha256(data).hexdigest()},
        kind=MaterialKind.FILE,
        filename=Path(filename or "file").name[:255],
        mime=kind[0],
        size=len(data),
        storage_key=key,
    )


def add_material_link(
    trade: Trade,
    title: str,
    url: str,
    *,
    cohort: Cohort | None = None,
    area: KnowledgeArea | None = None,
    actor=None,
) -> Material:
    problems = _title_problems(title)
    if not re.match(r"^https?://[^\s]+$", url or "") or len(url) > 500:
        problems.append(
            Problem("url", _("Give a full web address starting with http:// or https://."))
        )
    if problems:
        raise ValidationFailed(problems)
    return _add_material(
        trade, title, cohort, area, actor, {"url": url}, kind=MaterialKind.LINK, url=url
    )


def material_path(material: Material) -> Path:
    return _materials_dir() / material.storage_key


def delete_material(material: Material, actor=None) -> None:
    record_event("material.deleted", material, actor=actor, before={"title": material.title})
    if material.kind is MaterialKind.FILE:
        material_path(material).unlink(missing_ok=True)
    db.session.delete(material)


def materials_for(user: User, trade: Trade) -> list[Material]:
    cohort_ids = [c.id for c in _user_cohorts(user, trade)]
    stmt = (
        sa.select(Material)
        .where(
            Material.trade_id == trade.id,
            sa.or_(Material.cohort_id.is_(None), Material.cohort_id.in_(cohort_ids or [-1])),
        )
        .order_by(Material.area_id, Material.title)
    )
    if user.role is not Role.WORKER:
        stmt = sa.select(Material).where(Material.trade_id == trade.id).order_by(Material.title)
    return list(db.session.scalars(stmt))


def can_read_material(user: User, material: Material) -> bool:
    if user.role in (Role.ADMIN, Role.TRAINER):
        return True
    return material in materials_for(user, material.trade)


def _user_cohorts(user: User, trade: Trade) -> list[Cohort]:
    return list(
        db.session.scalars(
            sa.select(Cohort)
            .join(Enrolment, Enrolment.cohort_id == Cohort.id)
            .where(Enrolment.user_id == user.id, Cohort.trade_id == trade.id)
        )
    )


# --- mock exams ---------------------------------------------------------------------


def mock_blueprints(user: User, trade: Trade) -> list[ExamBlueprint]:
    """The blueprints of the levels the worker's classes prepare for."""
    blueprints = list_blueprints(trade)
    if user.role is not Role.WORKER:
        return blueprints
    levels = {c.level for c in _user_cohorts(user, trade)}
    return [b for b in blueprints if b.level in levels]


def start_mock(user: User, blueprint: ExamBlueprint) -> MockAttempt:
    if blueprint not in mock_blueprints(user, blueprint.trade):
        raise Forbidden(_("This mock exam is not for your class."), code="not_your_mock")
    now = clock.now()
    seed = new_seed()
    items = draw_paper(blueprint, seed, mock=True)
    cohorts = _user_cohorts(user, blueprint.trade)
    attempt = MockAttempt(
        user_id=user.id,
        cohort_id=cohorts[0].id if cohorts else None,
        blueprint=blueprint,
        seed=seed,
        answers={},
        started_at=now,
        deadline=now + timedelta(minutes=blueprint.duration_minutes),
        max_hundredths=sum(i.points_hundredths for i in items),
    )
    attempt.items = [
        MockPaperItem(
            position=n,
            version_id=i.version_id,
            points_hundredths=i.points_hundredths,
            option_order=list(i.option_order),
        )
        for n, i in enumerate(items, start=1)
    ]
    db.session.add(attempt)
    db.session.flush()  # the items load their versions from here on
    return attempt


def get_mock(user: User, attempt_id: int) -> MockAttempt:
    attempt = db.session.get(MockAttempt, attempt_id)
    if attempt is None or attempt.user_id != user.id:
        raise NotFound(_("No such mock exam."), code="mock_not_found")
    return attempt


@dataclass(frozen=True)
class MockGrade:
    """A mock paper graded: the answers that count, the score and each area's share."""

    answers: dict[str, list[str]]
    score_hundredths: int
    by_area: list[dict[str, Any]]

    @property
    def score(self) -> float:
        return self.score_hundredths / 100


def grade_mock(attempt: MockAttempt, answers: dict[int, list[str]]) -> MockGrade:
    """What the paper scores with these answers; changes nothing."""
    clean: dict[str, list[str]] = {}
    for item in attempt.items:
        keys = {o["key"] for o in item.version.display_options}
        chosen = sorted(set(answers.get(item.position, [])) & keys)
        if chosen:
            clean[str(item.position)] = chosen
    score = Fraction(0)
    areas: dict[int, list[Fraction]] = defaultdict(lambda: [Fraction(0), Fraction(0)])
    roots = {}
    for item in attempt.items:
        version = item.version
        earned = grade(version.type, version.correct, clean.get(str(item.position), []))
        points = Fraction(item.points_hundredths, 100)
        score += earned * points
        root = version.area.ancestors[0] if version.area.ancestors else version.area
        roots[root.id] = root
        areas[root.id][0] += earned * points
        areas[root.id][1] += points
    by_area = [
        {
            "area": roots[i].name,
            "score": float(got),
            "max": float(full),
            "pct": round(100 * got / full) if full else 0,
        }
        for i, (got, full) in areas.items()
    ]
    return MockGrade(clean, round(score * 100), by_area)


def _saved_answers(attempt: MockAttempt) -> dict[int, list[str]]:
    return {int(k): v for k, v in (attempt.answers or {}).items()}


def submit_mock(attempt: MockAttempt, answers: dict[int, list[str]]) -> MockAttempt:
    """Grade once. Answers sent after the deadline (plus a short grace) are not counted:
    the paper is graded with what was saved in time."""
    if attempt.finished:
        return attempt
    now = clock.now()
    if now > attempt.deadline + MOCK_GRACE:
        answers = _saved_answers(attempt)
    graded = grade_mock(attempt, answers)
    attempt.answers = graded.answers
    attempt.score_hundredths = graded.score_hundredths
    attempt.by_area = graded.by_area
    attempt.submitted_at = now
    return attempt


def mock_overdue(attempt: MockAttempt) -> bool:
    """Its time and grace are over but it was never handed in: it reads as handed in."""
    return not attempt.finished and clock.now() > attempt.deadline + MOCK_GRACE


def mock_outcome(attempt: MockAttempt) -> MockGrade | None:
    """The grade a result page shows: as handed in, or for an abandoned paper past its time
    what its saved answers score (the schedule records it; a page never writes). None while
    the paper is still open."""
    if attempt.finished:
        return MockGrade(
            dict(attempt.answers or {}), attempt.score_hundredths or 0, list(attempt.by_area)
        )
    if mock_overdue(attempt):
        return grade_mock(attempt, _saved_answers(attempt))
    return None


def expire_mock_if_due(attempt: MockAttempt) -> None:
    """An abandoned mock exam is graded with what it has once its time is over."""
    if mock_overdue(attempt):
        submit_mock(attempt, {})


def expire_overdue_mocks() -> int:
    """The schedule's minute: every abandoned mock past its time is graded and recorded."""
    limit = clock.now() - MOCK_GRACE
    overdue = db.session.scalars(
        sa.select(MockAttempt).where(
            MockAttempt.submitted_at.is_(None), MockAttempt.deadline < limit
        )
    ).all()
    for attempt in overdue:
        submit_mock(attempt, {})
    return len(overdue)


def unanswered_positions(attempt: MockAttempt, answers: dict[int, list[str]]) -> list[int]:
    """The paper's questions left without an answer, by their number on the paper."""
    return [item.position for item in attempt.items if not answers.get(item.position)]


def save_mock_answers(attempt: MockAttempt, answers: dict[int, list[str]]) -> None:
    attempt.check_open(clock.now())
    attempt.answers = {str(k): sorted(v) for k, v in answers.items() if v}


def mock_history(user: User, trade: Trade) -> list[MockAttempt]:
    return list(
        db.session.scalars(
            sa.select(MockAttempt)
            .join(ExamBlueprint, ExamBlueprint.id == MockAttempt.blueprint_id)
            .where(MockAttempt.user_id == user.id, ExamBlueprint.trade_id == trade.id)
            .order_by(MockAttempt.started_at.desc())
            .limit(20)
        )
    )


@dataclass
class QuestionView:
    """A question as a worker sees it on a paper: options in the paper's order."""

    position: int
    version: QuestionVersion
    options: list[dict] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)

    @property
    def multiple(self) -> bool:
        return self.version.type is QuestionType.MULTIPLE


def paper_view(attempt: MockAttempt) -> list[QuestionView]:
    views = []
    for item in attempt.items:
        version = item.version
        by_key = {o["key"]: o for o in version.display_options}
        order = item.option_order or list(by_key)
        views.append(
            QuestionView(
                item.position,
                version,
                [by_key[k] for k in order if k in by_key],
                (attempt.answers or {}).get(str(item.position), []),
            )
        )
    return views


def mock_answers(trade: Trade) -> Iterator[tuple[int, list[str], bool]]:
    """(question id, options picked, right) for every item of every handed-in mock of the
    trade, for the bank's lint (registered by the app factory)."""
    rows = db.session.execute(
        sa.select(MockAttempt.answers, MockPaperItem.position, QuestionVersion)
        .join(MockPaperItem, MockPaperItem.attempt_id == MockAttempt.id)
        .join(QuestionVersion, QuestionVersion.id == MockPaperItem.version_id)
        .join(ExamBlueprint, ExamBlueprint.id == MockAttempt.blueprint_id)
        .where(ExamBlueprint.trade_id == trade.id, MockAttempt.submitted_at.is_not(None))
    )
    for answers, position, version in rows:
        chosen = list((answers or {}).get(str(position), []))
        yield version.question_id, chosen, sorted(chosen) == sorted(version.correct)
