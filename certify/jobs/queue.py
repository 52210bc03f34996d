"""The RQ side: the Redis connection, the queue, and whether anyone will run what we put on it.

A job goes on the queue only when REDIS_URL is set, Redis answers and at least one worker
listens on the queue. Without a worker, a queued job would wait forever with nobody behind
it; the callers then run the work inline (or drive it in chunks from the page) instead.
"""

from __future__ import annotations

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker

QUEUE_NAME = "certify"
# A Redis that does not answer must not hold a page for long.
CONNECT_TIMEOUT = 2
SOCKET_TIMEOUT = 5


def redis_url() -> str | None:
    return current_app.config.get("REDIS_URL") or None


def queue_configured() -> bool:
    return redis_url() is not None


def redis_connection(url: str | None = None) -> Redis | None:
    """A client for REDIS_URL (None without one); connecting happens on first use."""
    url = url or redis_url()
    if not url:
        return None
    return Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=SOCKET_TIMEOUT
    )


def job_queue(connection: Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=connection)


def usable_queue() -> Queue | None:
    """The queue when Redis answers and a worker listens on it; otherwise None."""
    connection = redis_connection()
    if connection is None:
        return None
    queue = job_queue(connection)
    try:
        connection.ping()
        if not Worker.all(queue=queue):
            current_app.logger.warning("jobs: Redis answers but no worker listens on %s", queue)
            return None
    except RedisError as exc:
        current_app.logger.warning("jobs: Redis is unavailable (%s)", exc)
        return None
    return queue
