"""Work on a clock: overdue attempts are finalised, and jobs the queue lost are failed (so
they can be retried), every minute.

With Redis, `flask --app wsgi jobs cron` runs RQ's own CronScheduler, which puts
`expire_overdue_job` on the queue every minute for `jobs worker` to run (one cron process per
deployment; a second one only repeats work that is safe to repeat). Without Redis, the
same work runs from the system's cron instead:

    * * * * *  cd /srv/certify && .venv/bin/flask --app wsgi exams expire-overdue
"""

from __future__ import annotations

from redis import Redis
from rq.cron import CronScheduler

from certify.exams.services import expire_overdue
from certify.extensions import db
from certify.jobs.queue import QUEUE_NAME
from certify.jobs.services import job_app, reconcile_lost_jobs
from certify.training.services import expire_overdue_mocks

EXPIRE_EVERY_SECONDS = 60
# A minute's run that no worker took within two minutes is dropped: the next one does its work.
EXPIRE_TTL_SECONDS = 120
EXPIRE_TIMEOUT_SECONDS = 5 * 60


def expire_overdue_job() -> int:
    """RQ entry point: finalise attempts past their deadline, and grade the mock exams left
    past theirs; returns how many exam attempts."""
    with job_app().app_context():
        finalised = expire_overdue()
        expire_overdue_mocks()
        db.session.commit()
        return finalised


def reconcile_lost_jobs_job() -> int:
    """RQ entry point: mark failed the jobs the queue lost; returns how many."""
    with job_app().app_context():
        return reconcile_lost_jobs()


def build_cron(connection: Redis) -> CronScheduler:
    """RQ's scheduler with every timed job of the application registered."""
    cron = CronScheduler(connection=connection)
    for name, job in (
        ("expire-overdue", expire_overdue_job),
        ("reconcile-lost-jobs", reconcile_lost_jobs_job),
    ):
        cron.register(
            job,
            QUEUE_NAME,
            interval=EXPIRE_EVERY_SECONDS,
            ttl=EXPIRE_TTL_SECONDS,
            job_timeout=EXPIRE_TIMEOUT_SECONDS,
            result_ttl=EXPIRE_EVERY_SECONDS * 10,
            name=name,
        )
    return cron
