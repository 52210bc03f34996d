"""`flask --app wsgi jobs …`: the RQ worker, RQ's cron scheduler, and a look at the jobs."""

from __future__ import annotations

import os

import click
from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker

from certify.core import clock
from certify.core.cli import DomainGroup, fail
from certify.core.pdf import render_in_background
from certify.extensions import db
from certify.jobs import schedule, services
from certify.jobs.models import JobStatus
from certify.jobs.queue import job_queue, redis_connection

jobs_cli = DomainGroup("jobs", help="Background jobs: run a worker, the schedule, list, retry.")


def _connection() -> Redis:
    connection = redis_connection()
    if connection is None:
        fail("REDIS_URL is not set: jobs run inside the web requests, no worker is needed.")
    try:
        connection.ping()
    except RedisError as exc:
        fail(f"Redis at REDIS_URL does not answer: {exc}")
    return connection


def _forget_inherited_connections() -> None:
    """A forked work horse must not share the parent's database connections."""
    app = current_app._get_current_object()

    def after_fork() -> None:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)

    os.register_at_fork(after_in_child=after_fork)


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop.")
@click.option("--name", default=None, help="The worker's name (default: host and process).")
@click.option(
    "--render-nice",
    type=click.IntRange(0, 19),
    default=19,
    show_default=True,
    help="Niceness of PDF rendering (in a thread of its own), so that certificate batches "
    "yield the CPU to the exam on a shared machine. 0: render at normal priority.",
)
def worker_command(burst: bool, name: str | None, render_nice: int) -> None:
    """Run jobs from the queue, in this app's configuration, with RQ's scheduler enabled.

    Each job runs in a forked process, so a crash or a leak ends with the job. Run one or
    more under a supervisor (systemd, supervisord); stop with SIGTERM (finishes the job).
    Run the worker itself at normal priority: --render-nice lowers the rendering only.
    """
    connection = _connection()
    _forget_inherited_connections()
    render_in_background(render_nice)
    worker = Worker([job_queue(connection)], connection=connection, name=name)
    worker.work(burst=burst, with_scheduler=True)


@jobs_cli.command("cron")
def cron_command() -> None:
    """Put timed jobs on the queue (overdue attempts: every minute) until stopped.

    Run exactly one next to the workers. Without Redis use the system's cron instead:
    `* * * * * flask --app wsgi exams expire-overdue`.
    """
    schedule.build_cron(_connection()).start()


@jobs_cli.command("list")
@click.option(
    "--status", type=click.Choice([s.value for s in JobStatus]), help="Only jobs in this state."
)
@click.option("--limit", default=50, show_default=True, type=int)
def list_command(status: str | None, limit: int) -> None:
    """The newest jobs, tab-separated: id, kind, status, done/total, created, error."""
    wanted = JobStatus(status) if status else None
    for job in map(services.seen_job, services.recent_jobs(limit=max(limit, 1), status=wanted)):
        created = clock.local(job.created_at).strftime("%Y-%m-%d %H:%M")
        error = (job.error or "").replace("\n", " ")
        click.echo(
            f"{job.id}\t{job.kind}\t{job.status}\t{job.done}/{job.total}\t{created}\t{error}"
        )
    db.session.rollback()


@jobs_cli.command("retry")
@click.argument("job_id", type=int)
def retry_command(job_id: int) -> None:
    """Run a failed job again; only what it had not done yet gets done."""
    job = services.retry_job(services.find_job(job_id))
    click.echo(f"{job.id}\t{job.status}")
