"""The autosave fast path: one read and one guarded write per click, in autocommit.

Autosave is by far the busiest request of an exam day: every worker saves every answer as
it is chosen (500 workers × 90 questions within two hours, most of them in the same minutes).
The full path (`token_required`, `attempt_for`, `save_answer`) costs seven round trips to
the database and the ORM's bookkeeping for each click. Here the usual case costs two
statements on a connection in autocommit.

Only the plain case is decided here: a live token, the caller's own open attempt before its
deadline, a question on the paper and an allowed choice. Anything else returns None and the
caller takes the full path, which gives the precise error and finalises a lapsed attempt.

The write is the full path's own `answer_upsert`, which re-checks the attempt as it writes, so
an acknowledged answer is always one the grader counts.
"""

from __future__ import annotations

import functools
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import InterfaceError, OperationalError

from certify.accounts.models import ApiToken, User
from certify.accounts.sessions import token_digest
from certify.banks.models import QuestionVersion
from certify.core import clock
from certify.exams.models import Attempt, AttemptItem, AttemptStatus
from certify.exams.services import answer_upsert, choice_problem
from certify.extensions import db


def save_answer_quickly(
    token: str, attempt_id: int, position: int, chosen: list[str]
) -> datetime | None:
    """Save the answer to question `position` of the paper and return when, or None when the
    full path must decide."""
    now = clock.now()
    dialect = db.engine.dialect.name
    try:
        with _autocommit(db.engine).connect() as conn:
            lookup = {
                "attempt_id": attempt_id,
                "position": position,
                "now": now,
                "token_hash": token_digest(token),
            }
            question = conn.execute(_question_query(), lookup).first()
            if question is None or choice_problem(question.type, question.options, chosen):
                return None
            ids = {"attempt_id": attempt_id, "question_id": question.question_id, "now": now}
            saved = conn.execute(answer_upsert(dialect), {**ids, "chosen": sorted(chosen)}).first()
            return now if saved is not None else None
    except (OperationalError, InterfaceError):
        return None  # SQLite busy, or a connection lost with a restart: the full path retries


@functools.lru_cache(maxsize=8)
def _autocommit(engine: sa.Engine) -> sa.Engine:
    """The engine the fast path talks through, in autocommit.

    On PostgreSQL it has a pool of its own without the pre-ping (a `SELECT 1` round trip on
    every checkout, a third of this path's statements): a connection that died with a database
    restart fails the first statement instead, the pool drops it, and the caller falls back to
    the full path, whose pool does ping. SQLite keeps the app's engine and its pragmas.
    """
    if engine.dialect.name != "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return sa.create_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=False,
        pool_size=engine.pool.size(),
        max_overflow=getattr(engine.pool, "_max_overflow", 10),
    )


@functools.cache
def _question_query() -> sa.Select:
    """Built once: composing a statement costs as much as running it."""
    attempt_id, position, now = (sa.bindparam(n) for n in ("attempt_id", "position", "now"))
    question_query = (
        sa.select(QuestionVersion.type, QuestionVersion.options, AttemptItem.question_id)
        .select_from(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .join(Attempt, sa.and_(Attempt.user_id == ApiToken.user_id, Attempt.id == attempt_id))
        .join(
            AttemptItem,
            sa.and_(AttemptItem.attempt_id == Attempt.id, AttemptItem.position == position),
        )
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
        .where(
            ApiToken.token_hash == sa.bindparam("token_hash"),
            ApiToken.expires_at > now,
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
            Attempt.status == AttemptStatus.IN_PROGRESS,
            Attempt.deadline > now,
        )
    )
    return question_query
