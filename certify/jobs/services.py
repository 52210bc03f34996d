"""Starting, running, retrying and checking background jobs.

How a job runs is decided when it starts (and again at each retry):

- REDIS_URL set, Redis answers, a worker listens: the Job row is committed, then RQ gets its
  id; `run_job` in the worker does the work.
- otherwise, kinds that fit in a request (`Kind.inline`) run at once, in the request;
- otherwise (long kinds) `QueueUnavailable` is raised before any row exists, and the caller
  falls back to its own chunked way or says "try again later".

A Job row never stays queued with nothing behind it: a failed enqueue marks it failed with
the reason (retry it later), a worker that dies mid-job is caught by RQ's failure callback,
and the schedule's `reconcile_lost_jobs` fails rows whose RQ job is gone (a page asking for
the status shows them as failed before that, writing nothing).

Unlike other services these functions commit: the row must be visible to another process
before RQ hands its id to a worker, and progress must be visible while the work goes on.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from flask_babel import gettext as _
from redis.exceptions import RedisError
from rq import Callback, Queue, get_current_job
from rq.exceptions import AbandonedJobError, NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus as RQStatus
from rq.timeouts import JobTimeoutException

from certify.accounts.models import Role, User
from certify.core import clock
from certify.core.errors import Conflict, DomainError, Forbidden, NotFound
from certify.extensions import db
from certify.jobs.kinds import Kind, get_kind
from certify.jobs.models import ACTIVE, Job, JobStatus
from certify.jobs.queue import redis_connection, usable_queue

# An RQ job missing this long after the row last moved is taken as lost.
LOST_AFTER = timedelta(minutes=2)
RESULT_TTL = 24 * 60 * 60  # RQ's copy of a finished job; the Job row is the real record
MAX_UNEXPECTED = 300


class QueueUnavailable(DomainError):
    code = "queue_unavailable"
    status = 503


def _unavailable_message() -> str:
    return _("Background jobs are not available right now. Nothing was done; try again later.")


# --- starting ---------------------------------------------------------------------------------


def start_job(kind_name: str, params: dict[str, Any], actor: User) -> Job:
    """Start a job, or return the one already under way on the same subject."""
    kind = get_kind(kind_name)
    if actor.role not in kind.starters:
        raise Forbidden(_("You may not start this kind of job."))
    params, key = kind.check(params)
    if key and (running := active_job(kind.name, key)) is not None:
        return running
    queue = usable_queue()
    if queue is None and not kind.inline:
        db.session.rollback()
        raise QueueUnavailable(_unavailable_message())
    now = clock.now()
    job = Job(
        kind=kind.name,
        key=key,
        params=params,
        status=JobStatus.QUEUED,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(job)
    db.session.commit()
    return _dispatch(job, kind, queue)


def retry_job(job: Job) -> Job:
    """Run a failed job again. The kinds are idempotent: only what is left gets done."""
    if reconcile_job(job).status is not JobStatus.FAILED:
        raise Conflict(_("Only a failed job can be retried."), code="job_not_failed")
    kind = get_kind(job.kind)
    queue = usable_queue()
    if queue is None and not kind.inline:
        db.session.rollback()
        raise QueueUnavailable(_unavailable_message())
    job.requeue(clock.now())
    db.session.commit()
    return _dispatch(job, kind, queue)


def _dispatch(job: Job, kind: Kind, queue: Queue | None) -> Job:
    if queue is not None:
        try:
            _enqueue(job, kind, queue)
            return job
        except RedisError as exc:
            current_app.logger.warning("jobs: could not enqueue job %s: %s", job.id, exc)
            if not kind.inline:
                _mark_failed(job.id, _unavailable_message())
                raise QueueUnavailable(_unavailable_message()) from exc
            job.rq_job_id = None  # runs here instead; nothing for reconcile_job to look for
            db.session.commit()
    execute_job(job.id)
    db.session.refresh(job)
    return job


def _enqueue(job: Job, kind: Kind, queue: Queue) -> None:
    """Commit the RQ id first: the worker may start before this request ends."""
    job.rq_job_id = f"certify-job-{job.id}-{secrets.token_hex(4)}"
    db.session.commit()
    queue.enqueue(
        run_job,
        job.id,
        job_id=job.rq_job_id,
        job_timeout=kind.timeout,
        result_ttl=RESULT_TTL,
        on_failure=Callback(on_rq_failure),
        description=f"{kind.name} #{job.id}",
    )


# --- running ----------------------------------------------------------------------------------


def job_app() -> Flask:
    """The worker's app: the one it runs in (`flask jobs worker`), else one from the environment."""
    if has_app_context():
        return current_app._get_current_object()
    from certify import create_app
    from certify.config import load_settings

    return create_app(load_settings())


def run_job(job_id: int) -> dict[str, Any] | None:
    """The worker's entry point, in an app context (and database session) of its own."""
    rq_job = get_current_job()
    with job_app().app_context():
        return execute_job(job_id, rq_job.id if rq_job else None)


def execute_job(job_id: int, rq_job_id: str | None = None) -> dict[str, Any] | None:
    """Claim the job, run its kind's handler, and record how it ended.

    Returns None when there was nothing to run: the job was not queued any more (another
    worker took it, or it was retried under a newer RQ id).
    """
    job = _claim(job_id, rq_job_id)
    if job is None:
        return None
    kind = get_kind(job.kind)
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    try:
        result = kind.handler(job, actor)
    except Exception as exc:  # every failure must end up in the record, with its reason
        db.session.rollback()
        current_app.logger.exception("jobs: job %s (%s) failed", job_id, kind.name)
        _mark_failed(job_id, failure_reason(exc))
        return None
    job.finish(result, clock.now())
    db.session.commit()
    return result


def _claim(job_id: int, rq_job_id: str | None) -> Job | None:
    _lock_job(job_id)
    job = db.session.get(Job, job_id, populate_existing=True)
    if (
        job is None
        or job.status is not JobStatus.QUEUED
        or (rq_job_id is not None and job.rq_job_id != rq_job_id)
    ):
        db.session.rollback()
        return None
    job.start(clock.now())
    db.session.commit()
    return job


def _lock_job(job_id: int) -> None:
    """Hold the job's row until commit, so two workers never both start it.

    PostgreSQL: a row lock. SQLite: a no-op write takes the database's write lock.
    """
    table = Job.__table__
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.select(table.c.id).where(table.c.id == job_id).with_for_update())
    else:
        db.session.execute(table.update().where(table.c.id == job_id).values(id=table.c.id))


def _mark_failed(job_id: int, reason: str) -> None:
    """Fail the job unless it has ended meanwhile (it may have finished a moment ago)."""
    _lock_job(job_id)
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is not None and job.status in ACTIVE:
        job.fail(reason, clock.now())
    db.session.commit()


def failure_reason(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, JobTimeoutException):
        return _("The job took longer than its time limit and was stopped.")
    detail = f"{type(exc).__name__}: {exc}"[:MAX_UNEXPECTED]
    return _("Unexpected error: %(detail)s", detail=detail)


def on_rq_failure(rq_job: RQJob, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback: the job died outside our handler (killed, abandoned, timed out)."""
    job_id = rq_job.args[0] if rq_job.args else None
    if not isinstance(job_id, int):
        return
    with job_app().app_context():
        job = db.session.get(Job, job_id)
        if job is None or job.rq_job_id != rq_job.id:
            db.session.rollback()
            return  # an older attempt's callback: the retry is not its business
        if exc_value is None or isinstance(exc_value, AbandonedJobError):
            reason = _("The worker stopped while running this job.")
        else:
            reason = failure_reason(exc_value)
        _mark_failed(job_id, reason)


# --- reading ----------------------------------------------------------------------------------


def find_job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound(_("There is no job %(id)s.", id=job_id))
    return job


def visible_job(job_id: int, user: User) -> Job:
    """The owner and admins see a job; to everyone else it does not exist."""
    job = db.session.get(Job, job_id)
    if job is None or (user.role is not Role.ADMIN and job.created_by_id != user.id):
        raise NotFound(_("There is no job %(id)s.", id=job_id))
    return job


def active_job(kind: str, key: str) -> Job | None:
    """The queued or running job of this kind on this subject, if a live one exists."""
    jobs = db.session.scalars(
        sa.select(Job)
        .where(Job.kind == kind, Job.key == key, Job.status.in_(ACTIVE))
        .order_by(Job.id.desc())
    ).all()
    for job in jobs:
        if reconcile_job(job).is_active:
            return job
    return None


def latest_job(kind: str, key: str) -> Job | None:
    return db.session.scalar(
        sa.select(Job).where(Job.kind == kind, Job.key == key).order_by(Job.id.desc()).limit(1)
    )


def recent_jobs(
    user: User | None = None, limit: int = 50, status: JobStatus | None = None
) -> list[Job]:
    """The newest jobs: all of them for admins and the CLI, one's own for everyone else."""
    select = sa.select(Job).order_by(Job.id.desc()).limit(limit)
    if user is not None and user.role is not Role.ADMIN:
        select = select.where(Job.created_by_id == user.id)
    if status is not None:
        select = select.where(Job.status == status)
    return list(db.session.scalars(select))


def lost_reason(job: Job) -> str | None:
    """Why a queued or running job will never end, as far as RQ can tell (its RQ job is gone
    past a moment's grace, or ended without telling us); None while it may still run.

    Without Redis (or when it does not answer) nothing can be told: None. Reads only.
    """
    if not job.is_active or not job.rq_job_id:
        return None
    connection = redis_connection()
    if connection is None:
        return None
    try:
        status = RQJob.fetch(job.rq_job_id, connection=connection).get_status()
    except NoSuchJobError:
        status = None
    except RedisError:
        return None
    lost = status is None and clock.now() - job.updated_at > LOST_AFTER
    ended = status in (RQStatus.FAILED, RQStatus.STOPPED, RQStatus.CANCELED, RQStatus.FINISHED)
    return _("The job queue lost this job before it ended. Retry it.") if lost or ended else None


class SeenJob:
    """A job as a page or a listing shows it: one the queue lost reads as failed, with why,
    before the schedule (or a retry) marks the row, so that looking at it writes nothing."""

    def __init__(self, job: Job, lost: str | None) -> None:
        self._job = job
        self._lost = lost

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    @property
    def status(self) -> JobStatus:
        return JobStatus.FAILED if self._lost else self._job.status

    @property
    def status_label(self) -> str:
        return str(self.status.label)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def error(self) -> str | None:
        return self._lost or self._job.error


def seen_job(job: Job) -> SeenJob:
    return SeenJob(job, lost_reason(job))


def reconcile_job(job: Job) -> Job:
    """Fail a queued or running job the queue lost, so it can be retried (a write: the
    schedule's minute, a retry, a new start of the same kind)."""
    reason = lost_reason(job)
    if reason:
        _mark_failed(job.id, reason)
        db.session.refresh(job)
    return job


def reconcile_lost_jobs() -> int:
    """What the schedule runs: every active job the queue lost is marked failed; how many."""
    active = db.session.scalars(
        sa.select(Job).where(Job.status.in_(ACTIVE), Job.rq_job_id.is_not(None))
    )
    return sum(1 for job in list(active) if not reconcile_job(job).is_active)
