"""gunicorn settings for `make serve` (production). Every value can be overridden from the
environment (GUNICORN_WORKERS, GUNICORN_THREADS, BIND, GUNICORN_TIMEOUT) or on the command line.

Threads, not async workers: the app is synchronous (SQLAlchemy, WeasyPrint), and a thread
waiting on PostgreSQL lets the others run. Keep-alive is long because phones send one answer
at a time over one connection, and gunicorn's gthread worker can drop a kept-alive connection
just as a request arrives when the timeout is short (bench/README.md).
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
keepalive = 10
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))  # a batch of 40 certificates ≈ 15 s
graceful_timeout = 30
max_requests = 5000  # recycle workers now and then: WeasyPrint's native memory
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """Check the configuration once, before any worker boots, and say which address
    certificates will carry (QR codes, slips, share links; signed into each certificate).
    A bad setting (production without BASE_URL, say) stops gunicorn here with its reason,
    instead of every worker failing to boot in turn."""
    from certify.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        server.log.error("Certify cannot start: %s", exc)
        raise SystemExit(1) from None
    server.log.info(
        "Certificates, QR codes, slips and share links carry %s (BASE_URL)", settings.base_url
    )
