"""Results wait for the exam to close; 缺考 is not 不合格; 公示 lists only those proposed."""

import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from certify.accounts.models import Role
from certify.audit.models import AuditEvent
from certify.cohorts.services import enrol_roster
from certify.core import clock
from certify.core.workdays import add_working_days
from certify.exams import services
from certify.exams.models import Attempt, AttemptStatus
from certify.extensions import db
from certify.results import reports
from certify.results import services as results
from certify.results.models import Outcome, ResultStatus
from tests.classes import roster_csv, roster_rows
from tests.factories import make_user
from tests.pages import visible_text


def test_publishing_is_refused_while_the_window_is_open_and_works_after_close(
    app, exam, hall, frozen_clock
):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["results", "publish", str(exam.id)])
    assert refused.exit_code == 1 and "考试还在进行" in refused.output
    closed = runner.invoke(args=["exams", "close", str(exam.id)])
    assert closed.exit_code == 0 and "handed in: 0" in closed.output
    published = runner.invoke(args=["results", "publish", str(exam.id)])
    assert published.exit_code == 0, published.output
    db.session.expire_all()
    last = published.output.strip().splitlines()[-1]
    assert last == f"{app.config['BASE_URL']}/publicity/{exam.publicity_token}"


def test_nobody_can_sit_after_results_were_published(exam, hall, frozen_clock):
    """The old order: publish with hours to run, then sit the exam and score 100."""
    with pytest.raises(results.ExamStillOpen):
        results.publish_results(exam, 5)
    services.close_session(exam)
    results.publish_results(exam, 5)
    db.session.commit()
    with pytest.raises(Exception) as raised:
        services.start_attempt(exam, hall["absentee"])
    assert getattr(raised.value, "code", "") == "session_closed"


def test_closing_hands_in_every_open_paper_with_what_was_saved(
    client, login, exam, worker, trainer, frozen_clock
):
    attempt = services.start_attempt(exam, worker)
    first = attempt.items[0]
    services.save_answer(attempt, first.position, list(first.version.correct))
    db.session.commit()
    frozen_clock.advance(minutes=10)
    login(trainer.username)
    board = client.get(f"/exams/sessions/{exam.id}").get_data(as_text=True)
    assert "现在收卷" in board
    assert client.post(f"/exams/sessions/{exam.id}/close").status_code == 302
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status is AttemptStatus.GRADED and attempt.score_hundredths > 0
    assert attempt.ended_at == clock.now()
    ended = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "attempt.ended", AuditEvent.subject_id == str(attempt.id)
        )
    )
    assert ended.after == {"status": "submitted", "reason": "exam_closed"}
    assert ended.actor_username == trainer.username
    assert db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "exam_session.closed")
    )
    # and the worker's next save is refused
    with pytest.raises(Exception) as raised:
        services.save_answer(attempt, attempt.items[1].position, [])
    assert getattr(raised.value, "code", "") == "attempt_closed"


def test_a_later_window_of_one_worker_keeps_results_waiting(exam, hall, frozen_clock):
    now = clock.now()
    services.set_override(
        exam,
        hall["absentee"],
        opens_at=now + timedelta(days=1),
        closes_at=now + timedelta(days=1, hours=2),
        reason="补考",
    )
    frozen_clock.advance(hours=4)  # the session itself has closed
    with pytest.raises(results.ExamStillOpen):
        results.publish_results(exam, 5)


def test_an_absentee_is_absent_everywhere_not_failed(client, login, exam, hall, frozen_clock):
    services.close_session(exam)
    results.publish_results(exam, 5)
    db.session.commit()
    outcomes = {r.user_id: r.outcome for r in results.session_results(exam)}
    assert outcomes == {
        hall["passer"].id: Outcome.PASSED,
        hall["failer"].id: Outcome.FAILED,
        hall["absentee"].id: Outcome.ABSENT,
    }
    sheet = load_workbook(io.BytesIO(reports.results_xlsx(exam))).active
    by_name = {row[0]: row[4] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert by_name[hall["absentee"].name] == "缺考"
    assert by_name[hall["failer"].name] == "不合格" and by_name[hall["passer"].name] == "合格"

    make_user(Role.ADMIN, username="office")
    login("office")
    page = client.get(f"/exams/sessions/{exam.id}/results").get_data(as_text=True)
    assert "缺考 1 人" in page
    client.post("/logout")
    absentee = hall["absentee"]
    from certify.accounts.services import change_password

    change_password(absentee, absentee.first_password, "absent-pass-1")
    db.session.commit()
    login(absentee.id_number, "absent-pass-1")
    mine = client.get("/exams/").get_data(as_text=True)
    assert "我的成绩" in mine and "缺考" in mine and "不合格" not in mine


def test_publishing_names_those_without_a_practical_score_and_needs_a_confirmation(
    app, client, login, exam, cohort, worker, trade, frozen_clock
):
    report = enrol_roster(cohort, "one-more.csv", roster_csv(roster_rows(1, start=800)))
    db.session.commit()
    (unscored,) = [e.user for e in cohort.enrolments if e.user_id != worker.id][:1]
    for person in (worker, unscored):
        attempt = services.start_attempt(exam, person)
        services.submit_attempt(attempt)
    examiner = make_user(Role.EXAMINER, username="ex1", trades=(trade.code,))
    results.record_practical_score(exam, worker, examiner, 85)
    services.close_session(exam)
    db.session.commit()
    assert report.saved and report.enrolled == 1

    runner = app.test_cli_runner()
    refused = runner.invoke(args=["results", "publish", str(exam.id)])
    assert refused.exit_code == 1 and unscored.name in refused.output
    assert worker.name not in refused.output

    make_user(Role.ADMIN, username="office")
    login("office")
    step = client.post(f"/exams/sessions/{exam.id}/results", data={"publicity_days": "5"})
    text = step.get_data(as_text=True)
    assert step.status_code == 200 and unscored.name in text and "仍然公布" in text
    assert all(r.status is ResultStatus.DRAFT for r in results.session_results(exam))
    done = client.post(
        f"/exams/sessions/{exam.id}/results",
        data={"publicity_days": "5", "confirm_missing": "yes"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert all(r.status is ResultStatus.PUBLISHED for r in results.session_results(exam))


def test_absentees_need_no_practical_score(exam, hall, frozen_clock):
    services.close_session(exam)
    results.publish_results(exam, 5)  # no confirmation needed: the absentee has no score
    db.session.commit()


def test_the_publicity_page_lists_only_those_proposed_then_goes(
    app, client, exam, hall, frozen_clock
):
    services.close_session(exam)
    ends = results.publish_results(exam, 5)
    db.session.commit()
    path = urlsplit(results.publicity_url(exam)).path
    page = client.get(path)
    text = visible_text(page.get_data(as_text=True))
    assert page.status_code == 200 and "拟发证 1 人" in text and "异议" in text
    passer, failer, absentee = hall["passer"], hall["failer"], hall["absentee"]
    assert passer.id_number[:6] + "********" + passer.id_number[-4:] in text
    for other in (failer, absentee):
        assert other.id_number[-4:] not in text
        assert other.id_number[:6] + "********" + other.id_number[-4:] not in text
    assert "不合格" not in text and "缺考" not in text and "85" not in text  # no scores
    frozen_clock.freeze(add_working_days(ends, 5) - timedelta(seconds=1))
    assert client.get(path).status_code == 200  # the grace for late objections
    frozen_clock.freeze(add_working_days(ends, 5))
    gone = client.get(path)
    assert gone.status_code == 410 and "公示已结束" in gone.get_data(as_text=True)
    assert passer.id_number[-4:] not in visible_text(gone.get_data(as_text=True))


def test_the_migration_marks_earlier_absentees(exam, hall, frozen_clock):
    """Results recorded before 缺考 existed: the migration tells absentees from failures."""
    import importlib.util

    from certify import PROJECT_ROOT
    from certify.results.models import Result

    services.close_session(exam)
    results.compute_results(exam)
    db.session.execute(sa.update(Result).values(absent=False))  # as the old code left them
    db.session.commit()
    path = (
        PROJECT_ROOT / "migrations/versions/d90817ef76a1_trust_exam_only_questions_access_code_.py"
    )
    spec = importlib.util.spec_from_file_location("trust_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.mark_absentees(db.session.connection()) == 1
    db.session.commit()
    db.session.expire_all()
    absent = {r.user_id for r in results.session_results(exam) if r.absent}
    assert absent == {hall["absentee"].id}
