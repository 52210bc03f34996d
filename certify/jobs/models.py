"""The record of one background job: what it does, how far it got, how it ended."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from certify.core import clock
from certify.core.db_types import UTCDateTime, text_enum
from certify.core.errors import Conflict
from certify.core.labels import LabelledEnum
from certify.extensions import db

MAX_ERROR = 2000


class JobStatus(LabelledEnum):
    QUEUED = "queued", _l("Waiting to start")
    RUNNING = "running", _l("Running")
    DONE = "done", _l("Finished")
    FAILED = "failed", _l("Failed")


STATUS_LABELS = JobStatus.labels()

# queued → failed: the queue lost it before a worker began (Redis outage, flushed queue).
# failed → queued: a retry; the kinds are idempotent, so a retry only does what is left.
TRANSITIONS = {
    JobStatus.QUEUED: {JobStatus.RUNNING, JobStatus.FAILED},
    JobStatus.RUNNING: {JobStatus.DONE, JobStatus.FAILED},
    JobStatus.DONE: set(),
    JobStatus.FAILED: {JobStatus.QUEUED},
}
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(db.Model):
    """One run of a kind of work with its parameters, as the person who started it sees it.

    `key` names what the job works on (e.g. "exam_session:12") so a second press of the same
    button finds the job already under way instead of starting another.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    key: Mapped[str] = mapped_column(sa.String(64), default="")
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(text_enum(JobStatus), default=JobStatus.QUEUED)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)
    rq_job_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    __table_args__ = (sa.Index("ix_jobs_kind_key_status", "kind", "key", "status"),)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status} {self.done}/{self.total}>"

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    def _move(self, to: JobStatus, at: datetime) -> None:
        if to not in TRANSITIONS[self.status]:
            raise Conflict(
                _l(
                    "A job that is %(now)s cannot become %(to)s.",
                    now=STATUS_LABELS[self.status],
                    to=STATUS_LABELS[to],
                ),
                code="illegal_job_transition",
            )
        self.status, self.updated_at = to, at

    def start(self, at: datetime) -> None:
        self._move(JobStatus.RUNNING, at)
        self.started_at, self.finished_at, self.attempts = at, None, self.attempts + 1

    def report(self, done: int, total: int, at: datetime) -> None:
        """Progress is only reported while running, and never past the total."""
        if self.status is not JobStatus.RUNNING:
            raise Conflict(_l("Only a running job reports progress."), code="job_not_running")
        self.total = max(total, 0)
        self.done = min(max(done, 0), self.total)
        self.updated_at = at

    def finish(self, result: dict[str, Any], at: datetime) -> None:
        self._move(JobStatus.DONE, at)
        self.result, self.error, self.finished_at = result, None, at

    def fail(self, reason: str, at: datetime) -> None:
        self._move(JobStatus.FAILED, at)
        self.error, self.finished_at = (reason or "?")[:MAX_ERROR], at

    def requeue(self, at: datetime, rq_job_id: str | None = None) -> None:
        self._move(JobStatus.QUEUED, at)
        self.rq_job_id, self.error, self.finished_at = rq_job_id, None, None
