"""Appenders running at the same time never link to the same predecessor."""

import threading

import sqlalchemy as sa

from certify.accounts.models import User
from certify.audit.chain import verify_chain
from certify.audit.models import AuditEvent
from certify.audit.services import record_event
from certify.extensions import db

THREADS, EACH = 8, 5


def test_concurrent_record_event_leaves_one_intact_chain(app, subject):
    subject_id = subject.id
    start, errors = threading.Barrier(THREADS), []

    def append(worker: int) -> None:
        try:
            with app.app_context():
                person = db.session.get(User, subject_id)
                start.wait()
                for n in range(EACH):
                    record_event("test.concurrent", person, after={"worker": worker, "n": n})
                    if n == 2:  # two entries in one transaction as well as single ones
                        record_event("test.concurrent", person, after={"worker": worker})
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=append, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    prev_hashes = list(db.session.scalars(sa.select(AuditEvent.prev_hash)))
    assert len(prev_hashes) == len(set(prev_hashes)) == 1 + THREADS * (EACH + 1)
    report = verify_chain()
    assert report.ok, report.describe()
    assert report.entries == 1 + THREADS * (EACH + 1)
