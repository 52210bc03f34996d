"""A job's states move only along the allowed transitions."""

from datetime import UTC, datetime

import pytest

from certify.core.errors import Conflict
from certify.jobs.models import Job, JobStatus

AT = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def _job(status: JobStatus) -> Job:
    return Job(kind="audit_export", status=status, done=0, total=0, attempts=0)


def test_a_job_runs_then_ends_once():
    job = _job(JobStatus.QUEUED)
    job.start(AT)
    assert job.status is JobStatus.RUNNING and job.attempts == 1 and job.started_at == AT
    job.report(5, 3, AT)
    assert (job.done, job.total) == (3, 3)  # never past the total
    job.finish({"rows": 3}, AT)
    assert job.status is JobStatus.DONE and job.result == {"rows": 3}
    for move in (lambda: job.start(AT), lambda: job.fail("x", AT), lambda: job.requeue(AT)):
        with pytest.raises(Conflict):
            move()
    assert job.status is JobStatus.DONE


def test_only_a_failed_job_goes_back_to_the_queue():
    queued = _job(JobStatus.QUEUED)
    with pytest.raises(Conflict):
        queued.finish({}, AT)  # not without running
    with pytest.raises(Conflict):
        queued.requeue(AT)
    with pytest.raises(Conflict):
        queued.report(1, 2, AT)  # progress only while running
    queued.fail("Redis did not answer", AT)
    assert queued.error == "Redis did not answer"
    queued.requeue(AT, "rq-2")
    assert queued.status is JobStatus.QUEUED and queued.error is None
    assert queued.rq_job_id == "rq-2"
    running = _job(JobStatus.RUNNING)
    with pytest.raises(Conflict):
        running.requeue(AT)  # a running job is not started twice
