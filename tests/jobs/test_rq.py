"""Jobs on RQ (Redis database 15) with a worker running in this process."""

import dataclasses
from collections import Counter

import pytest
import sqlalchemy as sa
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from rq.exceptions import AbandonedJobError
from rq.job import Job as RQJob

from certify.certificates.models import Certificate
from certify.extensions import db
from certify.jobs import kinds, services
from certify.jobs.models import Job, JobStatus


def _certificates() -> list[Certificate]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Certificate).order_by(Certificate.id)))


def _only_job() -> Job:
    db.session.expire_all()
    (job,) = db.session.scalars(sa.select(Job)).all()
    return job


def _status(client, job_id: int) -> dict:
    response = client.get(f"/jobs/{job_id}", headers={"Accept": "application/json"})
    assert response.status_code == 200
    return response.get_json()


def test_issue_all_runs_as_a_job_that_issues_each_pass_once(
    client, login, admin, exam, two_passes, listening, run_queue
):
    login("boss")
    response = client.post(f"/certificates/sessions/{exam.id}/issue")
    assert response.status_code == 302
    job = _only_job()
    assert job.kind == "issue_certificates" and job.status is JobStatus.QUEUED
    assert job.rq_job_id and job.created_by_id == admin.id
    assert _certificates() == []  # nothing is issued in the request

    page = client.get(f"/certificates/sessions/{exam.id}").get_data(as_text=True)
    assert f'data-job-url="/jobs/{job.id}"' in page and "js/jobs.js" in page
    assert "data-issue-chunks" not in page  # the job, not the page, does the work
    again = client.post(f"/certificates/sessions/{exam.id}/issue")  # a second press
    assert again.status_code == 302 and db.session.scalar(sa.select(sa.func.count(Job.id))) == 1

    run_queue()
    job = _only_job()
    assert job.status is JobStatus.DONE and job.attempts == 1
    assert (job.done, job.total) == (2, 2)
    issued = _certificates()
    assert {c.user_id for c in issued} == {w.id for w in two_passes}
    assert max(Counter(c.result_id for c in issued).values()) == 1
    assert sorted(job.result["numbers"]) == sorted(c.number for c in issued)
    body = _status(client, job.id)
    assert body["status"] == "done" and (body["done"], body["total"]) == (2, 2)
    assert body["error"] is None and body["retry_url"] is None
    assert body["result_url"] == f"/certificates/sessions/{exam.id}"


def test_a_failure_names_the_reason_and_a_retry_issues_only_the_rest(
    client, login, admin, exam, two_passes, listening, run_queue
):
    first, missing = two_passes
    missing_id_number, missing.id_number = missing.id_number, None
    db.session.commit()
    login("boss")
    client.post(f"/certificates/sessions/{exam.id}/issue")
    run_queue()
    job = _only_job()
    assert job.status is JobStatus.FAILED
    assert missing.username in job.error
    assert (job.done, job.total) == (1, 2)  # the other one's certificate is kept
    (kept,) = _certificates()
    assert kept.user_id == first.id
    body = _status(client, job.id)
    assert body["status"] == "failed" and missing.username in body["error"]
    assert body["retry_url"] == f"/jobs/{job.id}/retry"
    page = client.get(f"/certificates/sessions/{exam.id}").get_data(as_text=True)
    assert f'action="/jobs/{job.id}/retry"' in page

    db.session.get(type(missing), missing.id).id_number = missing_id_number
    db.session.commit()
    retried = client.post(f"/jobs/{job.id}/retry", headers={"Accept": "application/json"})
    assert retried.status_code == 200 and retried.get_json()["status"] == "queued"
    run_queue()
    job = _only_job()
    assert job.status is JobStatus.DONE and job.attempts == 2 and job.error is None
    assert (job.done, job.total) == (2, 2)
    issued = _certificates()
    assert len(issued) == 2 and issued[0].id == kept.id  # the first was not issued again
    assert {c.user_id for c in issued} == {w.id for w in two_passes}
    assert job.result["issued"] == 1
    refused = client.post(f"/jobs/{job.id}/retry", headers={"Accept": "application/json"})
    assert refused.status_code == 409  # only failed jobs are retried


def test_a_handler_that_raises_fails_the_job_with_the_reason(
    admin, exam, listening, run_queue, monkeypatch
):
    def broken(job, actor):
        raise OSError("No space left on device")

    kind = kinds.KINDS["issue_certificates"]
    monkeypatch.setitem(kinds.KINDS, kind.name, dataclasses.replace(kind, handler=broken))
    job = services.start_job("issue_certificates", {"session_id": exam.id}, admin)
    assert job.status is JobStatus.QUEUED
    run_queue()
    job = _only_job()
    assert job.status is JobStatus.FAILED
    assert "OSError" in job.error and "No space left on device" in job.error
    assert job.finished_at is not None


def test_an_export_job_reports_progress_and_leaves_a_download(
    client, login, admin, listening, run_queue
):
    login("boss")  # creating the account was audited
    response = client.post("/jobs/audit-export", data={"format": "csv"})
    assert response.status_code == 302
    job = _only_job()
    assert response.headers["Location"].endswith(f"/jobs/{job.id}/view")
    assert job.status is JobStatus.QUEUED
    run_queue()
    job = _only_job()
    assert job.status is JobStatus.DONE and job.total >= 1 and job.done == job.total
    body = _status(client, job.id)
    assert body["result_url"] == f"/jobs/{job.id}/download"
    download = client.get(body["result_url"])
    assert download.status_code == 200
    lines = download.get_data(as_text=True).splitlines()
    assert lines[0].lstrip("\ufeff").startswith("编号") and len(lines) == job.total + 1


def test_a_failed_enqueue_leaves_a_failed_job_not_a_queued_one(
    admin, exam, listening, run_queue, monkeypatch
):
    def refuse(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    with monkeypatch.context() as patch, pytest.raises(services.QueueUnavailable):
        patch.setattr(Queue, "enqueue", refuse)  # Redis went away after the check
        services.start_job("issue_certificates", {"session_id": exam.id}, admin)
    job = _only_job()
    assert job.status is JobStatus.FAILED and "请稍后再试" in job.error  # try again later
    services.retry_job(job)  # Redis is back
    run_queue()
    job = _only_job()
    assert job.status is JobStatus.DONE and job.result["issued"] == 0


def test_a_job_the_queue_lost_reads_as_failed_and_the_schedule_marks_it(
    client, login, admin, exam, listening, with_redis, frozen_clock
):
    """Looking at it writes nothing (a GET that wrote would fail here: WriteOnRead); the
    schedule's minute marks the row, and a retry runs it again."""
    login("boss")
    job = services.start_job("issue_certificates", {"session_id": exam.id}, admin)
    with_redis.delete(RQJob.key_for(job.rq_job_id))  # Redis restarted without its data
    assert _status(client, job.id)["status"] == "queued"  # a moment's grace
    frozen_clock.advance(minutes=3)
    body = _status(client, job.id)
    assert body["status"] == "failed" and body["retry_url"] and "丢失" in body["error"]
    assert "丢失" in client.get(f"/jobs/{job.id}/view").get_data(as_text=True)
    assert _only_job().status is JobStatus.QUEUED  # only looked at
    assert services.reconcile_lost_jobs() == 1
    assert _only_job().status is JobStatus.FAILED and "丢失" in _only_job().error


def test_retrying_a_lost_job_before_the_schedule_noticed_runs_it_again(
    client, login, admin, exam, listening, with_redis, frozen_clock, run_queue
):
    login("boss")
    job = services.start_job("issue_certificates", {"session_id": exam.id}, admin)
    with_redis.delete(RQJob.key_for(job.rq_job_id))
    frozen_clock.advance(minutes=3)
    retried = client.post(f"/jobs/{job.id}/retry", headers={"Accept": "application/json"})
    assert retried.status_code == 200 and retried.get_json()["status"] == "queued"
    run_queue()
    assert _only_job().status is JobStatus.DONE


def test_a_worker_that_died_mid_job_fails_it_through_rqs_callback(
    admin, exam, listening, with_redis
):
    job = services.start_job("issue_certificates", {"session_id": exam.id}, admin)
    rq_job = RQJob.fetch(job.rq_job_id, connection=with_redis)
    rq_job.execute_failure_callback(
        listening.death_penalty_class, AbandonedJobError, AbandonedJobError(), None
    )
    job = _only_job()
    assert job.status is JobStatus.FAILED and job.error
