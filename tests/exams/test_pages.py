import re
from urllib.parse import urlsplit

import sqlalchemy as sa

from certify.accounts.models import Role
from certify.exams import services
from certify.exams.models import Attempt, AttemptStatus
from certify.extensions import db
from certify.results import services as results
from tests.factories import make_user


def _worker_login(login, worker):
    return login(worker.username, "my-own-pass-1")


def test_a_worker_takes_the_exam_without_javascript(client, login, worker, exam):
    _worker_login(login, worker)
    listing = client.get("/exams/").get_data(as_text=True)
    assert exam.name in listing and "开始考试" in listing
    response = client.post(f"/exams/{exam.id}/start")
    page_url = response.headers["Location"]
    page = client.get(page_url).get_data(as_text=True)
    assert 'id="exam-form"' in page and "剩余时间" in page and 'data-token="' in page
    assert 'class="mainnav"' not in page and 'class="brand" href' not in page  # no way out
    assert 'class="mainnav"' in client.get("/exams/").get_data(as_text=True)
    attempt = db.session.scalar(sa.select(Attempt))
    for item in attempt.items[:3]:
        assert item.version.explanation not in page  # no answer key on the page
    form = {f"q{i.position}": i.version.correct for i in attempt.items[:10]}
    saved = client.post(page_url, data={**form, "action": "save"})
    assert saved.headers["Location"].endswith(page_url)
    assert len(services.saved_answers(attempt)) == 10
    resumed = client.get(page_url).get_data(as_text=True)
    assert resumed.count("checked") >= 10
    done = client.post(page_url, data={**form, "action": "submit"}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "共 90 题，你答了 10 题" in text and "成绩公示后会显示在这里" in text
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status is AttemptStatus.GRADED


def test_the_whole_flow_through_the_staff_pages(client, login, worker, exam, trade, trainer):
    attempt = services.start_attempt(exam, worker)
    for item in attempt.items:
        services.save_answer(attempt, item.position, list(item.version.correct))
    services.submit_attempt(attempt)
    db.session.commit()
    make_user(Role.EXAMINER, username="ex1", trades=(trade.code,))
    login("ex1")
    home = client.get("/").get_data(as_text=True)
    assert "待评分的考试" in home
    client.post(f"/exams/sessions/{exam.id}/practical", data={f"score-{worker.id}": "82"})
    client.post("/logout")
    make_user(Role.ADMIN, username="boss")
    login("boss")
    page = client.get(f"/exams/sessions/{exam.id}/results").get_data(as_text=True)
    assert "合格" in page and "82" in page
    services.close_session(exam)  # 收卷: results wait for the exam
    db.session.commit()
    client.post(f"/exams/sessions/{exam.id}/results", data={"publicity_days": "0"})
    page = client.get(f"/exams/sessions/{exam.id}/results").get_data(as_text=True)
    publicity_url = re.search(r'href="(http://[^"]+/publicity/[^"]+)"', page).group(1)
    public = client.get(urlsplit(publicity_url).path).get_data(as_text=True)
    assert worker.name not in public and worker.id_number not in public
    assert worker.id_number[:6] + "********" + worker.id_number[-4:] in public
    client.post(f"/exams/sessions/{exam.id}/finalize")
    db.session.expire_all()
    assert results.session_results(exam)[0].status.value == "final"
    report = client.get(f"/exams/sessions/{exam.id}/report").get_data(as_text=True)
    assert "合格率" in report and "100%" in report
    export = client.get(f"/exams/sessions/{exam.id}/results.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    client.post("/logout")
    _worker_login(login, worker)
    done = client.get(f"/exams/attempt/{attempt.id}/done").get_data(as_text=True)
    assert "理论：100 分" in done and "按知识点" in done


def test_a_trainer_schedules_and_sees_departures(client, login, cohort, worker, frozen_clock):
    login("teacher")
    response = client.post(
        f"/cohorts/{cohort.id}/exams/new",
        data={
            "opens_at": "2026-11-23T09:00",
            "closes_at": "2026-11-23T12:00",
            "duration_minutes": "90",
            "access_code": "K7Q2X9",
            "departure_limit": "3",
        },
    )
    assert response.status_code == 302
    session_url = response.headers["Location"]
    exam = services.get_session(int(session_url.rsplit("/", 1)[1]))
    assert exam.access_code == "K7Q2X9" and exam.departure_limit == 3
    attempt = services.start_attempt(exam, worker, "K7Q2X9")
    services.record_proctor_event(attempt, "hidden")
    db.session.commit()
    page = client.get(session_url).get_data(as_text=True)
    assert worker.name in page and "考试中" in page and 'tag-warn">1<' in page
    bad = client.post(
        f"/cohorts/{cohort.id}/exams/new",
        data={"opens_at": "2026-11-23T12:00", "closes_at": "2026-11-23T09:00"},
    ).get_data(as_text=True)
    assert "截止时间要晚于开始时间" in bad


def test_publicity_pages_cannot_be_guessed(client):
    assert client.get("/publicity/1").status_code == 404


def test_the_exam_page_out_of_time_writes_nothing_and_reads_as_over(
    client, login, worker, exam, frozen_clock
):
    """Opening the paper or its done page after the deadline hands nothing in (a GET that
    wrote would fail here: WriteOnRead); the page reads as time up, ended at the deadline,
    and the schedule's minute is what hands it in."""
    _worker_login(login, worker)
    page_url = client.post(f"/exams/{exam.id}/start").headers["Location"]
    attempt = db.session.scalar(sa.select(Attempt))
    frozen_clock.advance(minutes=exam.duration_minutes + 5)
    late = client.get(page_url)
    assert late.status_code == 302 and late.headers["Location"].endswith("/done")
    done = client.get(late.headers["Location"]).get_data(as_text=True)
    assert "时间到，自动交卷" in done
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status is AttemptStatus.IN_PROGRESS
    assert services.expire_overdue() == 1
    db.session.expire_all()
    ended = db.session.get(Attempt, attempt.id)
    assert ended.status is AttemptStatus.GRADED and ended.ended_at == attempt.deadline
