"""The office's working-day deadlines know China's public holidays and make-up days."""

from datetime import UTC, date, datetime, timedelta

from certify.core import clock
from certify.endorsement import deadlines
from certify.endorsement.deadlines import DeadlineState
from certify.exams.services import schedule_session
from certify.extensions import db

# Wednesday 2026-09-23, 11:00 in Wenzhou, two days before 中秋 and a week before 国庆.
BEFORE_THE_HOLIDAYS = datetime(2026, 9, 23, 3, 0, tzinfo=UTC)


def test_the_ten_working_days_for_results_span_mid_autumn_and_national_day(cohort, worker):
    session = schedule_session(
        cohort,
        BEFORE_THE_HOLIDAYS - timedelta(hours=2),
        BEFORE_THE_HOLIDAYS,
        duration_minutes=90,
        name="节前考试",
    )
    db.session.commit()
    # 09-24, 09-28, 09-29, 09-30, 10-08, 10-09, 10-10 (a Saturday worked for 国庆), 10-12,
    # 10-13, 10-14: Monday to Friday alone would have made it 10-07, in the holiday.
    with clock.travel(datetime(2026, 10, 9, 1, 30, tzinfo=UTC)):  # Friday 09:30, after 国庆
        (row,) = deadlines.session_deadlines()
    assert row.session.id == session.id
    assert row.results.due_on == date(2026, 10, 14)
    assert row.submission.due_on == date(2026, 10, 21)  # five working days more
    assert row.working_days_since == 6  # 09-24, 09-28 to 09-30, 10-08, 10-09
    assert row.results.working_days_left == 4  # 10-10, 10-12, 10-13, 10-14
    assert row.results.state is DeadlineState.OPEN and not row.flagged

    with clock.travel(datetime(2026, 10, 15, 1, 30, tzinfo=UTC)):
        (row,) = deadlines.session_deadlines()
    assert row.results.state is DeadlineState.LATE and row.results.working_days_left == -1
