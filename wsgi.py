"""The WSGI entry point: `flask --app wsgi ...`, `gunicorn wsgi:app`."""

import sys

from certify import create_app
from certify.config import ConfigError

# gunicorn serves with threads. A thread back from the database (often holding a row or the
# audit trail's lock) waits for the interpreter lock; CPython makes the running thread give
# it up only every 5 ms by default, which on an exam morning is several waits per request.
sys.setswitchinterval(0.0005)

try:
    app = create_app()
except ConfigError as exc:  # the reason, not a traceback: the operator has a setting to fix
    raise SystemExit(f"Certify cannot start: {exc}") from None


def _announce_public_address() -> None:
    """Say at start-up which address certificates will carry: it is in every QR code, slip
    and share link and under every certificate's signature, so a wrong one must show at once.
    Under gunicorn the master says it once (gunicorn.conf.py), not every worker."""
    if "gunicorn" not in sys.modules:
        print(
            f"Certify: certificates, QR codes, slips and share links carry "
            f"{app.config['BASE_URL']} (BASE_URL)",
            file=sys.stderr,
            flush=True,
        )


_announce_public_address()
