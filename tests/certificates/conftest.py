"""A worker with a final pass, a signing key, and their certificate."""

import pytest

from certify.accounts.models import Role
from certify.certificates.services import issue_certificate
from certify.certificates.signing import init_keys
from certify.cohorts.services import enrol_roster
from certify.exams import services
from certify.extensions import db
from certify.results import services as results
from tests.classes import roster_csv, roster_rows
from tests.factories import make_user


@pytest.fixture
def signing_key(app):
    key, _made = init_keys()
    db.session.commit()
    return key


@pytest.fixture
def final_pass(exam, worker, trade, frozen_clock):
    """The worker's result after the exam, the practical part and a finished publicity."""
    attempt = services.start_attempt(exam, worker)
    for item in attempt.items:
        services.save_answer(attempt, item.position, list(item.version.correct))
    services.submit_attempt(attempt)
    examiner = make_user(Role.EXAMINER, username="ex1", trades=(trade.code,))
    results.record_practical_score(exam, worker, examiner, 82)
    services.close_session(exam)  # 收卷: results wait for the exam
    results.publish_results(exam, 0)
    frozen_clock.advance(minutes=1)
    results.finalize_results(exam)
    db.session.commit()
    (result,) = results.session_results(exam)
    frozen_clock.advance(hours=1)
    return result


def pass_everyone(cohort, exam, trade, frozen_clock, more: int) -> list:
    """Enrol `more` workers, let every member pass and make the results final (an hour ago)."""
    report = enrol_roster(cohort, "more.csv", roster_csv(roster_rows(more, start=910)))
    assert report.saved, report.problems
    db.session.commit()
    workers = [e.user for e in cohort.enrolments]
    examiner = make_user(Role.EXAMINER, username="ex1", trades=(trade.code,))
    for person in workers:
        attempt = services.start_attempt(exam, person)
        for item in attempt.items:
            services.save_answer(attempt, item.position, list(item.version.correct))
        services.submit_attempt(attempt)
        results.record_practical_score(exam, person, examiner, 82)
    services.close_session(exam)  # 收卷: results wait for the exam
    results.publish_results(exam, 0)
    frozen_clock.advance(minutes=1)
    results.finalize_results(exam)
    db.session.commit()
    frozen_clock.advance(hours=1)
    return workers


@pytest.fixture
def certificate(final_pass, signing_key):
    certificate = issue_certificate(final_pass)
    db.session.commit()
    return certificate
