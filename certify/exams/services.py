"""Exam sessions and attempts. The clock, the deadline and every rule live here, not in the page.

A worker's answer is accepted only before the server deadline; an attempt past its
deadline is finalised with what was saved, whenever it is next touched or by
`flask exams expire-overdue`. Submitting is idempotent: one conditional UPDATE decides
which request ends the attempt, and only that request grades it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from certify.accounts.models import Role, User
from certify.audit.services import record_event
from certify.banks.models import ExamBlueprint, QuestionVersion
from certify.banks.types import QuestionType
from certify.cohorts.models import Cohort, Enrolment
from certify.cohorts.services import can_manage
from certify.core import clock
from certify.core.db_types import UTCDateTime
from certify.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    Problem,
    ValidationFailed,
)
from certify.core.lookups import get_or_not_found
from certify.exams.models import (
    AccessCodeLock,
    Attempt,
    AttemptAnswer,
    AttemptItem,
    AttemptStatus,
    ExamSession,
    ProctorEvent,
    SessionOverride,
)
from certify.exams.papers import draw_paper, new_seed, pool_texts
from certify.exams.scoring import answers_by_position as answers_by_position  # pages and API
from certify.exams.scoring import grade_attempt
from certify.exams.scoring import saved_answers as saved_answers  # read by pages and API
from certify.extensions import db

DEPARTURE_KINDS = frozenset({"hidden", "blur"})
EVENT_KINDS = DEPARTURE_KINDS | {"visible", "focus", "copy"}
SAME_DEPARTURE = timedelta(seconds=2)  # a tab switch fires both blur and hidden
ACCESS_CODE = re.compile(r"^[A-Za-z0-9]{6,12}$")
ACCESS_CODE_TRIES = 5  # the fifth wrong code locks: wait, or the proctor lifts it
ACCESS_CODE_LOCK = timedelta(minutes=10)


class PastDeadline(Conflict):
    code = "past_deadline"


class AttemptClosed(Conflict):
    code = "attempt_closed"


class WrongAccessCode(ValidationFailed):
    """A wrong code: counted (the caller commits the count before answering)."""


class AccessCodeLocked(DomainError):
    code = "access_code_locked"
    status = 423


# --- sessions ----------------------------------------------------------------------


def schedule_session(
    cohort: Cohort,
    opens_at: datetime,
    closes_at: datetime,
    *,
    duration_minutes: int | None = None,
    blueprint: ExamBlueprint | None = None,
    name: str = "",
    access_code: str | None = None,
    departure_limit: int | None = None,
    actor=None,
) -> ExamSession:
    blueprint = blueprint or _default_blueprint(cohort)
    duration = duration_minutes or (blueprint.duration_minutes if blueprint else 0)
    problems = _schedule_problems(
        cohort, blueprint, opens_at, closes_at, duration, access_code, departure_limit
    )
    if problems:
        raise ValidationFailed(problems)
    session = ExamSession(
        cohort=cohort,
        blueprint=blueprint,
        name=(name or blueprint.name)[:100],
        opens_at=opens_at,
        closes_at=closes_at,
        duration_minutes=duration,
        access_code=access_code or None,
        departure_limit=departure_limit,
        created_at=clock.now(),
    )
    db.session.add(session)
    record_event(
        "exam_session.scheduled",
        session,
        actor=actor,
        after={
            "cohort": cohort.id,
            "opens_at": opens_at.isoformat(),
            "closes_at": closes_at.isoformat(),
            "duration_minutes": duration,
        },
    )
    return session


def _default_blueprint(cohort: Cohort) -> ExamBlueprint | None:
    """The first blueprint of the class's trade and level."""
    return db.session.scalar(
        sa.select(ExamBlueprint)
        .where(
            ExamBlueprint.trade_id == cohort.trade_id,
            ExamBlueprint.level.is_(None)
            if cohort.level is None
            else ExamBlueprint.level == cohort.level,
        )
        .order_by(ExamBlueprint.id)
    )


def _schedule_problems(
    cohort: Cohort,
    blueprint: ExamBlueprint | None,
    opens_at: datetime,
    closes_at: datetime,
    duration: int,
    access_code: str | None,
    departure_limit: int | None,
) -> list[Problem]:
    problems = []
    if blueprint is None:
        problems.append(Problem("blueprint", _("This trade and level have no blueprint yet.")))
    elif blueprint.trade_id != cohort.trade_id or blueprint.level != cohort.level:
        problems.append(Problem("blueprint", _("The blueprint is for another trade or level.")))
    if closes_at <= opens_at:
        problems.append(Problem("closes_at", _("The session must close after it opens.")))
    if not 1 <= duration <= 600:
        problems.append(Problem("duration_minutes", _("The duration is 1 to 600 minutes.")))
    if access_code and not ACCESS_CODE.match(access_code):
        problems.append(Problem("access_code", _("An access code is 6 to 12 letters or digits.")))
    if departure_limit is not None and not 1 <= departure_limit <= 50:
        problems.append(Problem("departure_limit", _("The limit is 1 to 50 departures, or none.")))
    return problems


def set_override(
    session: ExamSession,
    user: User,
    *,
    extra_minutes: int = 0,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    reason: str = "",
    actor=None,
) -> SessionOverride:
    if not 0 <= extra_minutes <= 300:
        raise ValidationFailed([Problem("extra_minutes", _("Extra time is 0 to 300 minutes."))])
    if opens_at and closes_at and closes_at <= opens_at:
        raise ValidationFailed([Problem("closes_at", _("The window must close after it opens."))])
    override = session.override_for(user.id)
    if override is None:
        override = SessionOverride(user_id=user.id)
        session.overrides.append(override)
    override.extra_minutes, override.opens_at, override.closes_at = (
        extra_minutes,
        opens_at,
        closes_at,
    )
    override.reason = (reason or "")[:200]
    db.session.flush()
    record_event(
        "exam_session.override",
        session,
        actor=actor,
        after={"user": user.id, "extra_minutes": extra_minutes, "reason": override.reason},
    )
    return override


def get_session(session_id: int) -> ExamSession:
    return get_or_not_found(
        ExamSession, session_id, _("No such exam session."), "session_not_found"
    )


def may_oversee(user: User, session: ExamSession) -> bool:
    """Staff who see every attempt and result of the session, on its pages and in the API:
    admins, the class's own trainers, examiners of its trade. Not every trainer or examiner."""
    if user.role is Role.EXAMINER:
        return session.cohort.trade in user.trades
    return can_manage(user, session.cohort)


def overseen_session(session_id: int, user: User) -> ExamSession:
    """The session, for staff who may oversee it; anyone else is refused (403)."""
    session = get_session(session_id)
    if not may_oversee(user, session):
        raise Forbidden(_("You do not oversee this exam session."), code="not_overseer")
    return session


def is_enrolled(user: User, session: ExamSession) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Enrolment)
            .where(Enrolment.cohort_id == session.cohort_id, Enrolment.user_id == user.id)
        )
    )


def sessions_for(user: User) -> list[tuple[ExamSession, Attempt | None]]:
    """The sessions of the worker's classes that open within 12 hours, are open, or were
    started. Read only: a paper whose time is up reads so (Attempt.status_at) until the
    schedule or the worker's exam page hands it in."""
    now = clock.now()
    sessions = db.session.scalars(
        sa.select(ExamSession)
        .join(Enrolment, Enrolment.cohort_id == ExamSession.cohort_id)
        .where(Enrolment.user_id == user.id)
        .order_by(ExamSession.opens_at)
    )
    result = []
    for session in sessions:
        attempt = find_attempt(session, user)
        opens, closes, _extra = session.window_for(user.id)
        if attempt is not None or opens - timedelta(hours=12) <= now < closes:
            result.append((session, attempt))
    return result


@dataclass(frozen=True)
class ExamLock:
    """An exam of the worker's that is open and not handed in: while it lasts, nothing of its
    trade that shows answers (practice, wrong-answer book, mocks, materials) is open to them."""

    trade_id: int
    session_id: int
    attempt_id: int | None


def exam_locks(user: User) -> dict[int, ExamLock]:
    """The worker's open, not handed-in exams by trade, in one query (every /learn/ request)."""
    if user.role is not Role.WORKER:
        return {}
    now = clock.now()
    override = aliased(SessionOverride)
    rows = db.session.execute(
        sa.select(Cohort.trade_id, ExamSession.id, Attempt.id)
        .join(Enrolment, Enrolment.cohort_id == ExamSession.cohort_id)
        .join(Cohort, Cohort.id == ExamSession.cohort_id)
        .outerjoin(
            override,
            sa.and_(override.session_id == ExamSession.id, override.user_id == user.id),
        )
        .outerjoin(
            Attempt, sa.and_(Attempt.session_id == ExamSession.id, Attempt.user_id == user.id)
        )
        .where(
            Enrolment.user_id == user.id,
            sa.func.coalesce(override.opens_at, ExamSession.opens_at) <= now,
            sa.func.coalesce(override.closes_at, ExamSession.closes_at) > now,
            sa.or_(
                Attempt.id.is_(None),
                sa.and_(Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline > now),
            ),
        )
        .order_by(ExamSession.opens_at)
    )
    locks: dict[int, ExamLock] = {}
    for trade_id, session_id, attempt_id in rows:
        locks.setdefault(trade_id, ExamLock(trade_id, session_id, attempt_id))
    return locks


def sessions_to_score(user: User) -> list[ExamSession]:
    """For an examiner: the sessions of the trades they are accredited for, newest first."""
    if user.role is not Role.EXAMINER or not user.trades:
        return []
    return list(
        db.session.scalars(
            sa.select(ExamSession)
            .join(Cohort, Cohort.id == ExamSession.cohort_id)
            .where(Cohort.trade_id.in_([t.id for t in user.trades]))
            .order_by(ExamSession.opens_at.desc())
            .limit(30)
        )
    )


# --- attempts ----------------------------------------------------------------------


def find_attempt(session: ExamSession, user: User) -> Attempt | None:
    return db.session.scalar(
        sa.select(Attempt).where(Attempt.session_id == session.id, Attempt.user_id == user.id)
    )


def start_attempt(session: ExamSession, user: User, access_code: str | None = None) -> Attempt:
    """Start, or resume the same attempt: one per worker and session, whatever is clicked."""
    existing = find_attempt(session, user)
    if existing is not None:
        touch(existing)
        return existing
    if user.role is not Role.WORKER or not is_enrolled(user, session):
        raise Forbidden(_("This exam is not for you."), code="not_enrolled")
    now = clock.now()
    opens, closes, extra = session.window_for(user.id)
    if now < opens:
        raise Conflict(
            _("The exam has not opened yet. Come back at the time on your exam notice."),
            code="not_open_yet",
        )
    if now >= closes:
        raise Conflict(
            _("The exam is closed. If you missed it, ask your trainer about a re-sit."),
            code="session_closed",
        )
    if session.access_code:
        check_access_code(session, user, access_code, now)
    seed = new_seed()
    items = draw_paper(session.blueprint, seed)
    deadline = min(now + timedelta(minutes=session.duration_minutes + extra), closes)
    attempt = Attempt(
        session=session,
        user_id=user.id,
        seed=seed,
        started_at=now,
        deadline=deadline,
        max_hundredths=sum(i.points_hundredths for i in items),
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:  # a second tab started at the same moment: resume that one
        existing = find_attempt(session, user)
        if existing is None:
            raise
        return existing
    _insert_items(attempt.id, items)
    record_event(
        "attempt.started",
        attempt,
        actor=user,
        after={"session": session.id, "seed": seed, "deadline": deadline.isoformat()},
    )
    return attempt


def _access_code_lock(session: ExamSession, user: User) -> AccessCodeLock | None:
    return db.session.get(AccessCodeLock, (session.id, user.id))


def check_access_code(
    session: ExamSession, user: User, access_code: str | None, now: datetime
) -> None:
    """Refuse a wrong code, and every code for ACCESS_CODE_LOCK after ACCESS_CODE_TRIES wrong
    ones: a code of a few characters can otherwise be guessed in a second. The count is kept
    by the caller committing before it answers (a refusal rolls everything else back)."""
    lock = _access_code_lock(session, user)
    if lock is not None and lock.locked_until is not None and now < lock.locked_until:
        raise AccessCodeLocked(_locked_text(lock, now))
    if (access_code or "").strip().upper() == session.access_code.upper():
        if lock is not None:
            db.session.delete(lock)
        return
    if lock is None:
        lock = AccessCodeLock(session_id=session.id, user_id=user.id, failures=0)
        db.session.add(lock)
    elif lock.locked_until is not None:  # an earlier lock ran out: count afresh
        lock.failures, lock.locked_until = 0, None
    lock.failures += 1
    lock.last_failed_at = now
    if lock.failures >= ACCESS_CODE_TRIES:
        lock.locked_until = now + ACCESS_CODE_LOCK
        db.session.flush()
        record_event(
            "attempt.access_code_locked",
            session,
            actor=user,
            after={"worker": user.id, "locked_until": lock.locked_until.isoformat()},
        )
        raise AccessCodeLocked(_locked_text(lock, now))
    db.session.flush()
    raise WrongAccessCode(
        [Problem("access_code", _("The access code is not right. Ask the proctor."))]
    )


def _locked_text(lock: AccessCodeLock, now: datetime) -> str:
    minutes = max(1, int((lock.locked_until - now).total_seconds() + 59) // 60)
    return _(
        "Too many wrong access codes. Wait %(minutes)d minutes, or ask the proctor to let you "
        "try again.",
        minutes=minutes,
    )


def access_code_locks(session: ExamSession) -> list[AccessCodeLock]:
    """Who may not type a code now: shown on the proctor's board, with a way to lift it."""
    return list(
        db.session.scalars(
            sa.select(AccessCodeLock)
            .where(
                AccessCodeLock.session_id == session.id,
                AccessCodeLock.locked_until > clock.now(),
            )
            .options(joinedload(AccessCodeLock.user))
            .order_by(AccessCodeLock.locked_until)
        )
    )


def lift_access_code_lock(session: ExamSession, user: User, actor=None) -> None:
    lock = _access_code_lock(session, user)
    if lock is None or lock.locked_until is None or lock.locked_until <= clock.now():
        raise Conflict(_("This worker may already type the code."), code="not_locked")
    db.session.delete(lock)
    record_event("attempt.access_code_unlocked", session, actor=actor, after={"worker": user.id})


# PostgreSQL takes the whole paper as one statement over arrays: ninety single-row INSERTs
# (what executemany sends) were most of the database's work for a start.
_PG_INSERT_ITEMS = sa.text(
    """
    INSERT INTO attempt_items
      (attempt_id, position, question_id, version_id, points_hundredths, option_order)
    SELECT :attempt, t.position, t.question, t.version, t.points, t.option_order::json
      FROM unnest(CAST(:positions AS integer[]), CAST(:questions AS integer[]),
                  CAST(:versions AS integer[]), CAST(:points AS integer[]),
                  CAST(:orders AS text[]))
           AS t(position, question, version, points, option_order)
    """
)


def _insert_items(attempt_id: int, items: list) -> None:
    """Freeze the drawn paper: one row per question, without building ORM objects."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            _PG_INSERT_ITEMS,
            {
                "attempt": attempt_id,
                "positions": list(range(1, len(items) + 1)),
                "questions": [i.question_id for i in items],
                "versions": [i.version_id for i in items],
                "points": [i.points_hundredths for i in items],
                "orders": [json.dumps(list(i.option_order)) for i in items],
            },
        )
        return
    db.session.execute(
        sa.insert(AttemptItem),
        [
            {
                "attempt_id": attempt_id,
                "position": n,
                "question_id": i.question_id,
                "version_id": i.version_id,
                "points_hundredths": i.points_hundredths,
                "option_order": list(i.option_order),
            }
            for n, i in enumerate(items, start=1)
        ],
    )


def attempt_for(user: User, attempt_id: int) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound(_("No such exam."), code="attempt_not_found")
    if attempt.user_id != user.id:
        raise Forbidden(_("This is someone else's exam."), code="not_your_attempt")
    return attempt


def touch(attempt: Attempt) -> Attempt:
    """Finalise an attempt whose deadline has passed, with the answers saved by then."""
    if attempt.is_open and clock.now() >= attempt.deadline:
        _end(attempt, AttemptStatus.EXPIRED)
    return attempt


def save_answer(attempt: Attempt, position: int, chosen: list[str]) -> datetime:
    """Keep the answer to question `position` of the paper (its number there, not a bank id).
    Refused (409) once the deadline has passed or the paper is in."""
    now = clock.now()
    _refuse_if_closed(touch(attempt))
    # One item with its version, not the whole paper: this runs for every click of every worker.
    item = db.session.scalar(
        sa.select(AttemptItem)
        .where(AttemptItem.attempt_id == attempt.id, AttemptItem.position == position)
        .options(joinedload(AttemptItem.version))
    )
    if item is None:
        raise NotFound(_("This question is not on your paper."), code="question_not_on_paper")
    chosen = [str(c) for c in chosen]
    problem = choice_problem(item.version.type, item.version.options, chosen)
    if problem:
        raise ValidationFailed([Problem("answer", problem)])
    params = {"attempt_id": attempt.id, "question_id": item.question_id, "now": now}
    stored = db.session.execute(
        answer_upsert(db.engine.dialect.name), {**params, "chosen": sorted(chosen)}
    ).first()
    if stored is None:  # handed in or lapsed since it was read
        db.session.refresh(attempt)
        _refuse_if_closed(touch(attempt))
        raise PastDeadline(_("Time is up; answers can no longer be changed."))
    return now


def _refuse_if_closed(attempt: Attempt) -> None:
    if not attempt.is_open:
        if attempt.ended_at is not None and attempt.ended_at < attempt.deadline:
            raise AttemptClosed(_("This exam is already handed in; the answer was not saved."))
        raise PastDeadline(_("Time is up; answers can no longer be changed."))


@functools.cache
def answer_upsert(dialect: str) -> sa.Insert:
    """Insert or replace one answer, only while its attempt is open, in one statement.

    Checking the attempt in the statement that writes, not in an earlier read, is what keeps
    an acknowledged answer from missing the grading: on PostgreSQL the check takes a share
    lock on the attempt's row, so a submission's conditional UPDATE waits for this answer to
    commit and then grades it; on SQLite (WAL) a write from a snapshot older than the
    submission fails as busy. A submission that came first leaves nothing to write: no row
    is returned. Built once per dialect, since composing it costs as much as running it.
    """
    table = AttemptAnswer.__table__  # Core, not ORM: the ORM cannot insert from a SELECT
    now = sa.bindparam("now", type_=UTCDateTime())
    still_open = sa.select(Attempt.id).where(
        Attempt.id == sa.bindparam("attempt_id"),
        Attempt.status == AttemptStatus.IN_PROGRESS,
        Attempt.deadline > now,
    )
    if dialect == "postgresql":
        still_open = still_open.with_for_update(read=True)
    row = sa.select(
        sa.bindparam("attempt_id", type_=sa.Integer()),
        sa.bindparam("question_id", type_=sa.Integer()),
        sa.bindparam("chosen", type_=table.c.chosen.type),
        now,
    ).where(still_open.exists())
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    insert = insert.from_select(["attempt_id", "question_id", "chosen", "saved_at"], row)
    return insert.on_conflict_do_update(
        index_elements=["attempt_id", "question_id"],
        set_={"chosen": insert.excluded.chosen, "saved_at": insert.excluded.saved_at},
    ).returning(table.c.saved_at)


def choice_problem(kind: QuestionType, options: list[dict], chosen: list[str]) -> str | None:
    """Why `chosen` cannot be an answer to this question, or None when it can."""
    allowed = QuestionVersion.keys_of(kind, options)
    if any(c not in allowed for c in chosen) or len(set(chosen)) != len(chosen):
        return _("That option is not part of this question.")
    if kind is not QuestionType.MULTIPLE and len(chosen) > 1:
        return _("Choose only one answer here.")
    return None


@dataclass(frozen=True)
class PaperEntry:
    question_id: int
    position: int
    version_id: int
    option_order: list[str]


def paper_entries(attempt: Attempt) -> list[PaperEntry]:
    """The attempt's frozen paper as plain rows, in order (no ORM objects to build)."""
    rows = db.session.execute(
        sa.select(
            AttemptItem.question_id,
            AttemptItem.position,
            AttemptItem.version_id,
            AttemptItem.option_order,
        )
        .where(AttemptItem.attempt_id == attempt.id)
        .order_by(AttemptItem.position)
    )
    return [PaperEntry(q, pos, v, list(order or [])) for q, pos, v, order in rows]


@dataclass(frozen=True)
class ShownQuestion:
    type: QuestionType
    stem: str
    display_options: list[dict]  # as shown: true/false spelled out


def shown_questions(version_ids: list[int], trade_id: int) -> dict[int, ShownQuestion]:
    """The texts of a paper's versions, without loading 90 ORM objects.

    A paper is sent on every start and resume. Most versions are the bank's current ones,
    already in the drawing pool; the rest (edited or retired since) come in one query.
    """
    known = pool_texts(trade_id)
    texts = {vid: known[vid] for vid in version_ids if vid in known}
    missing = [vid for vid in version_ids if vid not in texts]
    if missing:
        rows = db.session.execute(
            sa.select(
                QuestionVersion.id,
                QuestionVersion.type,
                QuestionVersion.stem,
                QuestionVersion.options,
            ).where(QuestionVersion.id.in_(missing))
        )
        texts.update((vid, (kind, stem, options or [])) for vid, kind, stem, options in rows)
    return {
        vid: ShownQuestion(kind, stem, QuestionVersion.options_shown(kind, options))
        for vid, (kind, stem, options) in texts.items()
    }


def submit_attempt(attempt: Attempt) -> Attempt:
    """Hand in. Any number of concurrent calls end and grade the attempt once."""
    touch(attempt)
    if attempt.is_open:
        _end(attempt, AttemptStatus.SUBMITTED)
    return attempt


def close_session(session: ExamSession, actor=None) -> int:
    """Close the window now (the proctor's 收卷): nobody may start any more, and every paper
    still being written is handed in with the answers saved so far, each in the audit trail.
    Returns how many were handed in."""
    now = clock.now()
    if now < session.opens_at:
        raise Conflict(
            _("This exam has not opened yet. Change its times instead of closing it."),
            code="not_open_yet",
        )
    if session.closes_at <= now and not any(
        o.closes_at is not None and o.closes_at > now for o in session.overrides
    ):
        raise Conflict(_("This exam is closed already."), code="session_closed")
    before = session.closes_at
    session.closes_at = max(now, session.opens_at + timedelta(seconds=1))  # closes > opens
    for override in session.overrides:  # later windows (extra time, re-sits) end too
        if override.opens_at is not None and override.opens_at > now:
            override.opens_at = now
        if override.closes_at is not None and override.closes_at > now:
            override.closes_at = now
    db.session.flush()
    record_event(
        "exam_session.closed",
        session,
        actor=actor,
        before={"closes_at": before.isoformat()},
        after={"closes_at": now.isoformat()},
    )
    open_ids = db.session.scalars(
        sa.select(Attempt.id).where(
            Attempt.session_id == session.id, Attempt.status == AttemptStatus.IN_PROGRESS
        )
    ).all()
    handed_in = 0
    for attempt_id in open_ids:
        attempt = db.session.get(Attempt, attempt_id)
        if attempt.deadline <= now:
            touch(attempt)  # ran out before the close: expired, as it would have been
        elif _end(attempt, AttemptStatus.SUBMITTED, reason="exam_closed", actor=actor):
            handed_in += 1
    return handed_in


def _end(attempt: Attempt, status: AttemptStatus, *, reason: str | None = None, actor=None) -> bool:
    """End and grade the attempt once, whoever else tries at the same moment; True if this
    call ended it."""
    won = db.session.execute(attempt.ending(status, clock.now())).rowcount
    db.session.refresh(attempt)
    if won:
        grade_attempt(attempt)
        after = {"status": str(status), **({"reason": reason} if reason else {})}
        record_event("attempt.ended", attempt, actor=actor or attempt.user, after=after)
    return bool(won)


def end_overdue_attempts() -> Iterator[Attempt]:
    """Hand in, one by one, every attempt whose deadline has passed, with the answers saved
    by then. The caller commits after each (the schedule's minute, `exams expire-overdue`),
    so a hall of 2,000 is graded in steps that each hold the database briefly."""
    ids = db.session.scalars(
        sa.select(Attempt.id).where(
            Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline <= clock.now()
        )
    ).all()
    for attempt_id in ids:
        attempt = db.session.get(Attempt, attempt_id)
        touch(attempt)
        yield attempt


def expire_overdue() -> int:
    """What the schedule runs (and `exams expire-overdue`): hand in what ran out, committing
    after each paper; how many."""
    count = 0
    for _attempt in end_overdue_attempts():
        db.session.commit()
        count += 1
    return count


def record_proctor_event(attempt: Attempt, kind: str, at: datetime | None = None) -> bool:
    """Log a departure or return; returns True when the limit handed the paper in."""
    if kind not in EVENT_KINDS:
        raise ValidationFailed([Problem("kind", _("Unknown event."))])
    now = clock.now()
    touch(attempt)
    if not attempt.is_open:
        return False
    # The phone's own time, so events sent late after an outage still merge correctly;
    # clamped to the attempt, so a wrong phone clock cannot place them elsewhere.
    at = min(max(at or now, attempt.started_at), now)
    if kind in DEPARTURE_KINDS:
        recent = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ProctorEvent)
            .where(
                ProctorEvent.attempt_id == attempt.id,
                ProctorEvent.kind.in_(DEPARTURE_KINDS),
                ProctorEvent.at > at - SAME_DEPARTURE,
                ProctorEvent.at < at + SAME_DEPARTURE,
            )
        )
        if not recent:
            attempt.departures += 1
    db.session.add(ProctorEvent(attempt_id=attempt.id, kind=kind, at=at, received_at=now))
    limit = attempt.session.departure_limit
    if limit and attempt.departures >= limit and attempt.is_open:
        db.session.flush()
        _end(attempt, AttemptStatus.SUBMITTED)
        return True
    return False
