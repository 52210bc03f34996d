"""Overdue attempts are finalised, and lost jobs failed, on RQ's cron schedule; the CLI
commands answer sensibly."""

from certify.exams import services as exams
from certify.exams.models import Attempt, AttemptStatus
from certify.extensions import db
from certify.jobs.queue import job_queue
from certify.jobs.schedule import EXPIRE_EVERY_SECONDS, build_cron
from tests.conftest import in_fresh_context


def test_the_cron_puts_expire_overdue_on_the_queue_every_minute(
    exam, worker, frozen_clock, with_redis, run_queue
):
    attempt = exams.start_attempt(exam, worker)
    db.session.commit()
    frozen_clock.advance(minutes=91)  # past the 90-minute deadline, nobody handed in
    cron = build_cron(with_redis)
    entries = cron.get_jobs()
    assert [e.name for e in entries] == ["expire-overdue", "reconcile-lost-jobs"]
    assert {e.interval for e in entries} == {EXPIRE_EVERY_SECONDS} == {60}
    assert sorted(job.name for job in cron.enqueue_jobs()) == sorted(e.name for e in entries)
    assert cron.enqueue_jobs() == []  # not again within the minute
    assert job_queue(with_redis).count == 2
    run_queue()
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status is not AttemptStatus.IN_PROGRESS
    assert job_queue(with_redis).count == 0


def test_jobs_cli_lists_and_needs_redis_for_a_worker(app, admin, exam):
    from certify.jobs import services

    runner = app.test_cli_runner()
    job = services.start_job("audit_export", {"format": "csv"}, admin)
    listed = in_fresh_context(runner.invoke, args=["jobs", "list"])
    assert listed.exit_code == 0
    assert listed.output.startswith(f"{job.id}\taudit_export\tdone\t")
    worker = in_fresh_context(runner.invoke, args=["jobs", "worker", "--burst"])
    assert worker.exit_code == 1 and "REDIS_URL is not set" in worker.output
