"""Who sees a job: the person who started it and admins; to everyone else it is absent."""

import pytest

from certify.accounts.models import Role
from certify.core import clock
from certify.extensions import db
from certify.jobs.models import Job, JobStatus
from tests.factories import make_user


def _job(owner, status=JobStatus.FAILED, kind="audit_export") -> Job:
    now = clock.now()
    job = Job(
        kind=kind,
        params={"format": "csv"},
        status=status,
        created_by_id=owner.id,
        created_at=now,
        updated_at=now,
        done=3,
        total=7,
        error="磁盘已满" if status is JobStatus.FAILED else None,
    )
    db.session.add(job)
    db.session.commit()
    return job


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 200), ("other_admin", 200), ("other_hr", 404), ("worker", 404), ("trainer", 404)],
)
def test_the_status_json_by_role(client, login, app, who, expected):
    owner = make_user(Role.HR, username="owner")
    people = {
        "owner": owner,
        "other_admin": make_user(Role.ADMIN, username="other_admin"),
        "other_hr": make_user(Role.HR, username="other_hr"),
        "worker": make_user(Role.WORKER, username="worker"),
        "trainer": make_user(Role.TRAINER, username="trainer"),
    }
    job = _job(owner)
    login(people[who].username)
    response = client.get(f"/jobs/{job.id}")
    assert response.status_code == expected
    body = response.get_json()
    if expected == 200:
        assert body["status"] == "failed" and body["error"] == "磁盘已满"
        assert (body["done"], body["total"]) == (3, 7)
        assert body["retry_url"] == f"/jobs/{job.id}/retry"
        assert "no-store" in response.headers["Cache-Control"]
    else:
        assert body["error"]["code"] == "not_found"
        assert client.post(f"/jobs/{job.id}/retry").status_code == 404
        assert client.get(f"/jobs/{job.id}/view").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, app):
    job = _job(make_user(Role.ADMIN, username="boss"))
    response = client.get(f"/jobs/{job.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_job_page_shows_the_reason_and_a_retry_button(client, login):
    owner = make_user(Role.ADMIN, username="boss")
    job = _job(owner)
    login("boss")
    page = client.get(f"/jobs/{job.id}/view").get_data(as_text=True)
    assert "磁盘已满" in page and f'action="/jobs/{job.id}/retry"' in page
    assert 'max="7" value="3"' in page
    listing = client.get("/jobs/").get_data(as_text=True)
    assert f"/jobs/{job.id}/view" in listing


def test_a_retry_without_a_queue_runs_a_short_job_here(client, login):
    owner = make_user(Role.HR, username="owner")
    job = _job(owner)
    login("owner")
    response = client.post(f"/jobs/{job.id}/retry", headers={"Accept": "application/json"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "done" and body["error"] is None
    assert body["result_url"] == f"/jobs/{job.id}/download"
    assert client.get(body["result_url"]).status_code == 200


def test_only_admins_and_hr_start_an_export(client, login):
    make_user(Role.TRAINER, username="trainer")
    login("trainer")
    assert client.post("/jobs/audit-export", data={"format": "csv"}).status_code == 403
    assert db.session.query(Job).count() == 0
