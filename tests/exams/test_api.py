import importlib
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from certify.accounts.models import Role
from certify.accounts.sessions import issue_token
from certify.extensions import db
from tests.factories import make_user


def test_token_then_exams_then_start_resume_and_save(client, worker, exam, api, frozen_clock):
    response = client.post(
        "/api/v1/auth/token", json={"username": worker.id_number, "password": "my-own-pass-1"}
    )
    assert response.status_code == 200 and response.get_json()["token"]
    listing = api("GET", "/exams").get_json()
    assert listing[0]["id"] == exam.id and listing[0]["attempt_id"] is None
    paper = api("POST", f"/exams/{exam.id}/attempts").get_json()
    assert paper["status"] == "in_progress" and len(paper["questions"]) == 90
    assert paper["deadline"] == (frozen_clock.now() + timedelta(minutes=90)).isoformat()
    text = json.dumps(paper, ensure_ascii=False)
    assert "correct" not in text and "explanation" not in text  # no answer key while open
    question = paper["questions"][0]
    option = question["options"][0]["id"]
    saved = api(
        "PUT", f"/attempts/{paper['attempt_id']}/answers/{question['id']}", {"answer": [option]}
    )
    assert saved.status_code == 200 and saved.get_json()["saved_at"]
    again = api("POST", f"/exams/{exam.id}/attempts").get_json()
    assert again["attempt_id"] == paper["attempt_id"]
    assert again["answers"] == {str(question["id"]): [option]}


def test_every_api_error_is_json_with_a_stable_code(client, worker, exam, api, frozen_clock):
    assert client.get("/api/v1/exams").status_code == 401
    assert (
        client.get("/api/v1/exams", headers={"Authorization": "Bearer nope"}).get_json()["error"][
            "code"
        ]
        == "unauthorized"
    )
    paper = api("POST", f"/exams/{exam.id}/attempts").get_json()
    attempt_id, question = paper["attempt_id"], paper["questions"][0]
    url = f"/attempts/{attempt_id}/answers/{question['id']}"
    bad = api("PUT", url, {"answer": ["Z"]})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "validation_failed"
    assert api("PUT", url, {"answer": "A"}).status_code == 422
    missing = api("PUT", f"/attempts/{attempt_id}/answers/999999", {"answer": []})
    assert missing.status_code == 404
    assert api("PUT", "/attempts/999999/answers/1", {"answer": []}).status_code == 404
    other = make_user(Role.WORKER, username="w2")
    other_token, _ = issue_token(other)
    db.session.commit()
    assert api("PUT", url, {"answer": []}, bearer=other_token).status_code == 403
    assert api("POST", f"/attempts/{attempt_id}/submit").get_json() == {"status": "submitted"}
    assert api("POST", f"/attempts/{attempt_id}/submit").get_json() == {"status": "submitted"}
    closed = api("PUT", url, {"answer": [question["options"][0]["id"]]})
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "attempt_closed"


def test_an_answer_after_the_deadline_is_a_409(worker, exam, api, frozen_clock):
    paper = api("POST", f"/exams/{exam.id}/attempts").get_json()
    question = paper["questions"][0]
    frozen_clock.advance(minutes=90)
    late = api(
        "PUT",
        f"/attempts/{paper['attempt_id']}/answers/{question['id']}",
        {"answer": [question["options"][0]["id"]]},
    )
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "past_deadline"


def test_results_reach_the_worker_only_after_publication(app, client, worker, exam, api, trainer):
    paper = api("POST", f"/exams/{exam.id}/attempts").get_json()
    api("POST", f"/attempts/{paper['attempt_id']}/submit")
    early = api("GET", f"/attempts/{paper['attempt_id']}/result")
    assert early.status_code == 403 and early.get_json()["error"]["code"] == "not_published"
    staff_token, _ = issue_token(trainer)
    db.session.commit()
    staff = api("GET", f"/attempts/{paper['attempt_id']}/result", bearer=staff_token)
    assert staff.status_code == 200 and staff.get_json()["max_score"] == 100
    runner = app.test_cli_runner()
    assert runner.invoke(args=["exams", "close", str(exam.id)]).exit_code == 0
    publish = ["results", "publish", str(exam.id), "--publicity-days", "0"]
    refused = runner.invoke(args=publish)  # no practical score yet: names the worker
    assert refused.exit_code == 1 and worker.name in refused.output
    assert runner.invoke(args=[*publish, "--yes"]).exit_code == 0
    body = api("GET", f"/attempts/{paper['attempt_id']}/result").get_json()
    assert set(body) == {"score", "max_score", "passed", "by_area"} and body["by_area"]


def test_departure_events(worker, exam, api, frozen_clock):
    paper = api("POST", f"/exams/{exam.id}/attempts").get_json()
    body = api("POST", f"/attempts/{paper['attempt_id']}/events", {"kind": "hidden"}).get_json()
    # saved_at is the server's clock: a phone waking from sleep corrects its timer with it.
    assert body == {
        "departures": 1,
        "auto_submitted": False,
        "saved_at": frozen_clock.now().isoformat(),
    }
    assert (
        api("POST", f"/attempts/{paper['attempt_id']}/events", {"kind": "dance"}).status_code == 422
    )


def test_the_openapi_document_describes_the_routes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {
        "/auth/token",
        "/exams",
        "/exams/{session_id}/attempts",
        "/attempts/{attempt_id}/answers/{item_id}",
        "/attempts/{attempt_id}/submit",
        "/attempts/{attempt_id}/result",
    } <= set(doc["paths"])


def test_late_events_merge_by_their_own_time(worker, exam, api, frozen_clock):
    paper = api("POST", f"/exams/{exam.id}/attempts").get_json()
    at = frozen_clock.now().isoformat()
    frozen_clock.advance(seconds=40)  # delivered after an outage
    api("POST", f"/attempts/{paper['attempt_id']}/events", {"kind": "blur", "at": at})
    body = api(
        "POST", f"/attempts/{paper['attempt_id']}/events", {"kind": "hidden", "at": at}
    ).get_json()
    assert body["departures"] == 1


# --- the document is generated from the routes' declarations (certify/api/spec.py) ----------


def _api_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            yield path, rule.methods - {"HEAD", "OPTIONS"}, rule.endpoint


def test_every_route_is_in_the_document_and_nothing_else(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["servers"] == [{"url": "/api/v1"}]
    routes = {}
    for path, methods, _endpoint in _api_rules(app):
        routes.setdefault(path, set()).update(m.lower() for m in methods)
    documented = {path: set(ops) - {"parameters"} for path, ops in doc["paths"].items()}
    assert documented == routes


def test_every_operation_says_what_it_is_who_may_call_it_and_how_it_fails(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    public = {"token", "verify_certificate", "openapi"}
    operation_ids = set()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation["summary"] and operation["tags"], (method, path)
            operation_ids.add(operation["operationId"])
            bearer = operation["operationId"] not in public
            assert operation["security"] == ([{"bearer": []}] if bearer else []), path
            if bearer:
                assert {"401", "503"} <= set(operation["responses"]), (method, path)
            for status, response in operation["responses"].items():
                assert response["description"], (method, path, status)
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema["allOf"][0] == {"$ref": "#/components/schemas/Error"}
    assert operation_ids == {endpoint.removeprefix("api.") for *_, endpoint in _api_rules(app)}


def test_the_declared_verdict_is_the_one_answered(client):
    from certify.verification.services import Verdict, Verification

    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    declared = set(schema["Verification"]["properties"])
    assert declared == set(Verification(Verdict.NOT_FOUND, "X", signature_checked=False).to_json())


def test_a_read_writes_nothing_an_attempt_out_of_time_reads_as_over(
    worker, exam, api, trainer, frozen_clock
):
    """GET /exams and GET .../result do not hand in a lapsed attempt (a GET that wrote would
    fail here: WriteOnRead): it reads as expired, not graded, until a POST or the schedule."""
    paper = api("POST", f"/exams/{exam.id}/attempts").get_json()
    frozen_clock.advance(minutes=91)
    listing = api("GET", "/exams").get_json()
    assert listing[0]["attempt_status"] == "expired"
    staff_token, _ = issue_token(trainer)
    db.session.commit()
    result = f"/attempts/{paper['attempt_id']}/result"
    late = api("GET", result, bearer=staff_token)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "not_graded"
    assert api("POST", f"/attempts/{paper['attempt_id']}/submit").get_json() == {
        "status": "submitted"
    }
    assert api("GET", "/exams").get_json()[0]["attempt_status"] == "graded"
    assert api("GET", result, bearer=staff_token).status_code == 200


def _flaky(monkeypatch, target, failures):
    """Replace `target` with one that fails `failures` times as a busy database does."""
    module, name = target.rsplit(".", 1)
    real = getattr(importlib.import_module(module), name)
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= failures:
            raise OperationalError("UPDATE", {}, Exception("database is locked"))
        return real(*args, **kwargs)

    monkeypatch.setattr(target, flaky)
    return calls


@pytest.mark.parametrize(("failures", "status", "calls"), [(2, 200, 3), (3, 503, 3)])
def test_a_busy_database_is_tried_three_times(
    worker, exam, api, frozen_clock, monkeypatch, failures, status, calls
):
    paper = api("POST", f"/exams/{exam.id}/attempts").get_json()
    tried = _flaky(monkeypatch, "certify.exams.services.submit_attempt", failures)
    response = api("POST", f"/attempts/{paper['attempt_id']}/submit")
    assert response.status_code == status and len(tried) == calls
    if status == 503:
        assert response.get_json()["error"]["code"] == "busy"


@pytest.mark.parametrize(("failures", "status", "calls"), [(2, 200, 3), (3, 503, 3)])
def test_a_busy_database_is_tried_three_times_for_the_token(
    worker, exam, api, frozen_clock, monkeypatch, failures, status, calls
):
    tried = _flaky(monkeypatch, "certify.accounts.sessions.user_for_token", failures)
    response = api("GET", "/exams")
    assert response.status_code == status and len(tried) == calls
    if status == 503:
        assert response.get_json()["error"]["code"] == "busy"
