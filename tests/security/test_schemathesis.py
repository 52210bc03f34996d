"""Schemathesis against /api/v1/openapi.json, in-process (the WSGI app): no operation answers
any generated request, valid or not, with a server error, or with an answer the document does
not describe (its status, content type, headers, body and error code).

A worker with an open attempt calls with their bearer token. Each operation is tried with
ids drawn freely (mostly absent: 404) and, where the address takes ids, with the worker's
real session, attempt and question, so the requests reach the services. Small, fixed budgets
(derandomized): it checks the API, it does not explore it for hours.
"""

import contextvars

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify.exams import services as exams
from certify.extensions import db
from tests.exams.conftest import token  # noqa: F401

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 25
# Beyond "no server error": every answer is documented (status, content type, headers) and
# has the documented shape, error codes included: the generated document cannot drift.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def open_attempt(exam, worker, token):  # noqa: F811
    attempt = exams.start_attempt(exam, worker)
    db.session.commit()
    return attempt


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every documented operation loads (schemathesis leaves out the document's own address).
    assert len(operations) >= 8, [operation.label for operation in operations]
    return operations


def _real_ids(operation, attempt) -> dict[str, int] | None:
    names = {p.name for p in operation.path_parameters}
    ids = {
        "session_id": attempt.session_id,
        "attempt_id": attempt.id,
        "question_id": attempt.items[0].question_id,
    }
    return {name: ids[name] for name in names if name in ids} or None


def _run(operation, mode, bearer, path_parameters=None) -> list[str]:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data):
        case = data.draw(strategy)
        # Its own context, as in production (see tests/conftest.py IsolatedClient).
        response = contextvars.Context().run(
            case.call, headers={"Authorization": f"Bearer {bearer}"}
        )
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}"
                f" → {response.status_code} {response.text[:200]}"
            )
        case.validate_response(response, checks=CHECKS)

    try:
        check()
    except (Exception, BaseExceptionGroup) as exc:  # keep the other operations going
        failures.append(f"{operation.label} ({mode}): {type(exc).__name__}: {str(exc)[:300]}")
    return failures


def test_no_api_operation_answers_with_a_server_error(app, open_attempt, token):  # noqa: F811
    failures = []
    for operation in _operations(app):
        real = _real_ids(operation, open_attempt)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _run(operation, mode, token)
            if real:
                failures += _run(operation, mode, token, path_parameters=real)
    assert not failures, "\n".join(dict.fromkeys(failures))


# What the run above found (and tests/security's review by hand), kept as plain examples.


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/attempts/14412029177028305133766119157399552/answers/1", {"answer": []}),
        ("GET", "/attempts/99999999999999999999/result", None),
        ("POST", "/exams/99999999999999999999/attempts", {}),
    ],
)
def test_an_id_beyond_the_columns_is_not_found(client, token, method, path, body):  # noqa: F811
    headers = {"Authorization": f"Bearer {token}"}
    response = client.open(f"/api/v1{path}", method=method, json=body, headers=headers)
    assert response.status_code == 404  # was 500: SQLite's driver overflowed
    # No route matches such an id (the int converter's maximum): the API's plain 404.
    assert response.get_json()["error"]["code"] in ("not_found", "404")


@pytest.mark.parametrize("body", [True, 6.25e16, ["kind"], "blur"])
def test_a_body_that_is_not_an_object_reads_as_empty(client, open_attempt, token, body):  # noqa: F811
    headers = {"Authorization": f"Bearer {token}"}
    for path in (
        f"/api/v1/attempts/{open_attempt.id}/events",
        f"/api/v1/exams/{open_attempt.session_id}/attempts",
        "/api/v1/auth/token",
    ):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code < 500, (path, body)  # was 500: True.get(...)


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_event_time_utc_cannot_hold_is_ignored(client, open_attempt, token, at):  # noqa: F811
    response = client.post(
        f"/api/v1/attempts/{open_attempt.id}/events",
        json={"kind": "blur", "at": at},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200  # was 500: OverflowError; the server's time is used


def test_a_method_an_address_does_not_take_is_405_with_allow(app, client, token):  # noqa: F811
    """RFC 9110: a 405 names the methods the address takes; they are the documented ones."""
    doc = client.get("/api/v1/openapi.json").get_json()
    headers = {"Authorization": f"Bearer {token}"}
    for path, operations in doc["paths"].items():
        documented = {method.upper() for method in operations} - {"PARAMETERS"}
        address = "/api/v1" + path.format(session_id=1, attempt_id=1, item_id=1, number="X")
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - documented:
            response = client.open(address, method=method, headers=headers)
            assert response.status_code == 405, (method, path)
            assert response.get_json()["error"]["code"] == "405"
            allowed = {m.strip() for m in response.headers["Allow"].split(",")}
            assert allowed - {"HEAD", "OPTIONS"} == documented, (method, path)
