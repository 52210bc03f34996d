import io
from datetime import UTC, datetime

import pytest

from certify.accounts.models import Role
from certify.core.errors import Conflict
from certify.core.workdays import add_working_days
from certify.exams import services
from certify.extensions import db
from certify.results import services as results
from certify.results.models import ResultStatus
from tests.factories import make_user


def test_working_days_skip_the_weekend():
    friday = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 in Wenzhou
    assert add_working_days(friday, 5) == datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    assert add_working_days(friday, 1) == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert add_working_days(friday, 0) == friday


def _sit(exam, worker, right=True):
    attempt = services.start_attempt(exam, worker)
    for item in attempt.items:
        services.save_answer(attempt, item.position, list(item.version.correct) if right else [])
    services.submit_attempt(attempt)
    return attempt


def test_practical_scores_are_averaged_and_the_pass_needs_both_parts(exam, worker, trade):
    _sit(exam, worker)
    examiners = [
        make_user(Role.EXAMINER, username=f"ex{i}", trades=(trade.code,)) for i in range(3)
    ]
    for examiner, score in zip(examiners, (58, 62, 63), strict=True):
        results.record_practical_score(exam, worker, examiner, score)
    (result,) = results.compute_results(exam)
    assert result.theory == 100 and result.practical == 61 and result.passed
    results.record_practical_score(exam, worker, examiners[2], 50)  # corrected before publishing
    (result,) = results.compute_results(exam)
    assert result.practical == 56.67 and not result.passed


def test_an_examiner_outside_the_trade_cannot_score(exam, worker):
    from certify.core.errors import Forbidden

    outsider = make_user(Role.EXAMINER, username="ex9")
    with pytest.raises(Forbidden):
        results.record_practical_score(exam, worker, outsider, 80)


def test_publicity_then_final_with_objections(app, exam, worker, trade, frozen_clock):
    _sit(exam, worker)
    examiner = make_user(Role.EXAMINER, username="ex1", trades=(trade.code,))
    results.record_practical_score(exam, worker, examiner, 75)
    services.close_session(exam)  # 收卷: results wait for the exam
    ends = results.publish_results(exam, 5)
    db.session.commit()
    (result,) = results.session_results(exam)
    assert result.status is ResultStatus.PUBLISHED and result.publicity_ends_at == ends
    results.record_objection(result, "实操评分有疑问，申请复核")
    with pytest.raises(Conflict):
        results.finalize_results(exam)
    with pytest.raises(Conflict):
        results.record_practical_score(exam, worker, examiner, 90)  # frozen in publicity
    runner = app.test_cli_runner()
    assert runner.invoke(args=["results", "finalize", str(exam.id)]).exit_code == 1
    frozen_clock.freeze(ends)
    result = runner.invoke(args=["results", "finalize", str(exam.id)])
    assert result.exit_code == 0 and "final: 1" in result.output
    db.session.expire_all()
    assert results.session_results(exam)[0].status is ResultStatus.FINAL


def test_publishing_waits_for_running_attempts(exam, worker):
    services.start_attempt(exam, worker)
    with pytest.raises(Conflict, match="还有 1 名考生"):
        results.publish_results(exam)


def test_practical_scores_cli_is_all_or_nothing(app, exam, worker, trade, tmp_path):
    make_user(Role.EXAMINER, username="ex1", trades=(trade.code,))
    path = tmp_path / "scores.csv"
    path.write_bytes(
        f"证件号码,考评员,分数\n{worker.id_number},ex1,88\n110105194912310021,ex1,70\n".encode(
            "gbk"
        )
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["exams", "practical-scores", str(exam.id), str(path)])
    assert result.exit_code == 1 and "第 3 行" in result.output
    path.write_bytes(f"证件号码,考评员,分数\n{worker.id_number},ex1,88\n".encode())
    result = runner.invoke(args=["exams", "practical-scores", str(exam.id), str(path)])
    assert result.exit_code == 0 and "saved: 1" in result.output


def test_schedule_cli(app, cohort):
    result = app.test_cli_runner().invoke(
        args=[
            "exams",
            "schedule",
            str(cohort.id),
            "--opens",
            "2026-12-12T09:00+08:00",
            "--closes",
            "2026-12-12T12:00+08:00",
            "--duration",
            "90",
        ]
    )
    assert result.exit_code == 0, result.output
    session = services.get_session(int(result.output))
    assert session.opens_at == datetime(2026, 12, 12, 1, 0, tzinfo=UTC)
    bad = app.test_cli_runner().invoke(
        args=[
            "exams",
            "schedule",
            str(cohort.id),
            "--opens",
            "2026-12-12T12:00",
            "--closes",
            "2026-12-12T09:00",
        ]
    )
    assert bad.exit_code == 1


def test_excel_practical_scores(exam, worker, trade):
    from openpyxl import Workbook

    make_user(Role.EXAMINER, username="ex1", trades=(trade.code,))
    wb = Workbook()
    wb.active.append(["证件号码", "考评员", "分数"])
    wb.active.append([worker.id_number, "ex1", 91.5])
    buffer = io.BytesIO()
    wb.save(buffer)
    report = results.import_practical_scores(exam, "scores.xlsx", buffer.getvalue())
    assert report.saved == 1 and not report.problems


def test_a_resit_window_lets_a_worker_who_missed_the_exam_start_later(
    app, exam, worker, frozen_clock
):
    from datetime import timedelta

    frozen_clock.advance(hours=4)  # the session has closed
    with pytest.raises(Conflict):
        services.start_attempt(exam, worker)
    db.session.rollback()
    result = app.test_cli_runner().invoke(
        args=[
            "exams",
            "override",
            str(exam.id),
            "--worker",
            worker.id_number,
            "--opens",
            "2026-11-23T13:00+08:00",
            "--closes",
            "2026-11-23T17:00+08:00",
            "--reason",
            "病假补考",
        ]
    )
    assert result.exit_code == 0, result.output
    attempt = services.start_attempt(exam, worker)
    assert attempt.deadline == frozen_clock.now() + timedelta(minutes=90)
