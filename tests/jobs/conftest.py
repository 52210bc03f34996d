"""Redis database 15 for the queue, workers run in this process, and sessions with passes."""

import os
import signal

import pytest
from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker

from certify.accounts.models import Role
from certify.jobs.queue import job_queue
from tests.certificates.conftest import final_pass, pass_everyone, signing_key  # noqa: F401
from tests.factories import make_user

# Only this database is ever flushed; CI's two passes run side by side, each with its own.
TEST_REDIS_URL = os.environ.get("CERTIFY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CLOSED_PORT_URL = "redis://127.0.0.1:6390/0"  # nothing listens there: Redis "down"


@pytest.fixture
def redis_conn():
    connection = Redis.from_url(TEST_REDIS_URL)
    try:
        connection.ping()
    except RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture
def with_redis(app, redis_conn, monkeypatch):
    """The app configured with REDIS_URL, as in production."""
    monkeypatch.setitem(app.config, "REDIS_URL", TEST_REDIS_URL)
    return redis_conn


@pytest.fixture
def redis_down(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", CLOSED_PORT_URL)


@pytest.fixture
def listening(with_redis):
    """A worker registered on the queue, as `flask jobs worker` would be (it runs nothing)."""
    listener = SimpleWorker([job_queue(with_redis)], connection=with_redis, name="listener")
    listener.register_birth()
    yield listener
    listener.register_death()


@pytest.fixture
def run_queue(with_redis):
    """Run every waiting job in this process, like `flask jobs worker --burst`."""

    def run() -> None:
        saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            SimpleWorker([job_queue(with_redis)], connection=with_redis).work(burst=True)
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)

    return run


@pytest.fixture
def admin(app):
    return make_user(Role.ADMIN, username="boss")


@pytest.fixture
def two_passes(cohort, worker, exam, trade, frozen_clock, signing_key):  # noqa: F811
    """Two workers with final passes and no certificates yet."""
    return pass_everyone(cohort, exam, trade, frozen_clock, more=1)
