"""The WSGI entry point: `flask --app wsgi ...`, `gunicorn wsgi:app`."""

import sys

from certify import create_app

# gunicorn serves with threads. A thread back from the database (often holding a row or the
# audit trail's lock) waits for the interpreter lock; CPython makes the running thread give
# it up only every 5 ms by default, which on an exam morning is several waits per request.
sys.setswitchinterval(0.0005)

app = create_app()
