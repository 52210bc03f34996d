"""The one rule for ending a paper (Attempt.ending): in progress to submitted or expired, once,
and a paper that ran out ends at its deadline however late it is noticed."""

from datetime import timedelta

import pytest

from certify.core import clock
from certify.exams import services
from certify.exams.models import Attempt, AttemptStatus
from certify.extensions import db


def _end(attempt, status, at):
    won = db.session.execute(attempt.ending(status, at)).rowcount
    db.session.refresh(attempt)
    return won


def test_a_paper_that_ran_out_ends_at_its_deadline(exam, worker, frozen_clock):
    attempt = services.start_attempt(exam, worker)
    late = attempt.deadline + timedelta(hours=1)
    assert _end(attempt, AttemptStatus.EXPIRED, late) == 1
    assert attempt.status is AttemptStatus.EXPIRED and attempt.ended_at == attempt.deadline


def test_a_paper_handed_in_ends_when_it_is_handed_in(exam, worker, frozen_clock):
    attempt = services.start_attempt(exam, worker)
    now = clock.now()
    assert _end(attempt, AttemptStatus.SUBMITTED, now) == 1
    assert attempt.status is AttemptStatus.SUBMITTED and attempt.ended_at == now


def test_a_paper_ends_once(exam, worker, frozen_clock):
    attempt = services.start_attempt(exam, worker)
    first = clock.now()
    assert _end(attempt, AttemptStatus.SUBMITTED, first) == 1
    assert _end(attempt, AttemptStatus.EXPIRED, first + timedelta(hours=2)) == 0
    assert attempt.status is AttemptStatus.SUBMITTED and attempt.ended_at == first


@pytest.mark.parametrize("status", [AttemptStatus.IN_PROGRESS, AttemptStatus.GRADED])
def test_ending_is_to_submitted_or_expired_only(exam, worker, frozen_clock, status):
    attempt = services.start_attempt(exam, worker)
    with pytest.raises(ValueError):
        attempt.ending(status, clock.now())
    assert db.session.get(Attempt, attempt.id).is_open
