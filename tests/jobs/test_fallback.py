"""Without Redis, jobs run in the request (or the page issues in chunks); a Redis that is down
or has no worker changes nothing but the speed, and leaves no job waiting for nobody."""

import sqlalchemy as sa

from certify.certificates.models import Certificate
from certify.extensions import db
from certify.jobs import services
from certify.jobs.models import Job, JobStatus
from certify.jobs.queue import usable_queue


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_without_redis_an_export_runs_inline(client, login, admin):
    login("boss")
    response = client.post("/jobs/audit-export", data={"format": "xlsx", "action": "user"})
    assert response.status_code == 302
    job = db.session.scalars(sa.select(Job)).one()
    assert job.status is JobStatus.DONE and job.rq_job_id is None
    assert job.done == job.total == job.result["rows"] >= 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/jobs/{job.id}/download" in page
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200 and download.data[:2] == b"PK"  # an xlsx


def test_without_redis_issuing_stays_in_the_page(client, login, admin, exam, final_pass):
    login("boss")
    page = client.get(f"/certificates/sessions/{exam.id}").get_data(as_text=True)
    assert "data-issue-chunks" in page
    try:
        services.start_job("issue_certificates", {"session_id": exam.id}, admin)
    except services.QueueUnavailable:
        pass
    else:
        raise AssertionError("a long job must not run inside a request")
    assert _count(Job) == 0


def test_redis_down_falls_back_to_the_page_and_says_so(
    client, login, admin, exam, final_pass, signing_key, redis_down
):
    assert usable_queue() is None
    login("boss")
    client.get("/?lang=en")
    page = client.get(f"/certificates/sessions/{exam.id}").get_data(as_text=True)
    assert "data-issue-chunks" in page  # the script issues in chunks, as without Redis
    response = client.post(f"/certificates/sessions/{exam.id}/issue", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "background queue is not available" in text
    assert "1 certificates issued." in text
    assert _count(Certificate) == 1
    assert _count(Job) == 0  # no row waits for a queue that is not there
    export = services.start_job("audit_export", {"format": "csv"}, admin)
    assert export.status is JobStatus.DONE  # short kinds simply run here


def test_redis_without_a_worker_is_no_queue(client, login, admin, exam, final_pass, with_redis):
    assert usable_queue() is None
    login("boss")
    page = client.get(f"/certificates/sessions/{exam.id}").get_data(as_text=True)
    assert "data-issue-chunks" in page
    job = services.start_job("audit_export", {"format": "csv"}, admin)
    assert job.status is JobStatus.DONE and job.rq_job_id is None
