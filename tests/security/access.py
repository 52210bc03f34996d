"""Calling every rule of the app's url_map as one actor, and classing each answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from tests.security.conftest import World

# Outcome classes of the access table.
OK = "ok"  # 2xx, or a redirect to a page other than the login page
LOGIN = "login"  # a redirect to the login page, or the API's 401
FORBIDDEN = "403"
NOT_FOUND = "404"
INVALID = "4xx"  # refused for what was sent: 400, 405, 409, 422, 423
LIMITED = "429"
OUTCOMES = (OK, LOGIN, FORBIDDEN, NOT_FOUND, INVALID, LIMITED)

# Calls that change what later calls of the same run see go last, in this order.
LAST = (
    "POST /cohorts/<int:cohort_id>/materials/<int:material_id>/delete",
    "POST /cohorts/<int:cohort_id>/sessions/<int:session_id>/delete",
    "POST /banks/<code>/blueprints/<int:blueprint_id>/delete",
    "POST /catalog/areas/<int:area_id>/delete",
    "POST /catalog/trades/<code>/delete",
    "POST /logout",
    "DELETE /api/v1/auth/token",  # revokes the actor's token
)

JSON_BODIES = {
    "api.save": {"answer": ["A"]},
    "api.events": {"kind": "blur"},
    "api.start": {},
    "api.token": {},
}


def rule_keys(app: Flask) -> Iterator[tuple[str, str, str]]:
    """(table key "METHOD /rule", method, endpoint) for every rule and method of the app."""
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield f"{method} {rule.rule}", method, rule.endpoint


def ordered(app: Flask) -> list[tuple[str, str, str]]:
    keys = list(rule_keys(app))

    def order(item):
        key, method, _endpoint = item
        last = LAST.index(key) if key in LAST else -1
        return (last, method != "GET", key)

    return sorted(keys, key=order)


def url_args(world: World, endpoint: str) -> dict[str, str]:
    """Real ids, of objects that belong to the owner and the owner's class and trade."""
    args = {
        "code": world.trade.code,
        "user_id": world.owner.id,
        "area_id": world.area.id,
        "lang": "en",
        "question_id": world.question.id,
        "blueprint_id": world.blueprint.id,
        "fmt": "csv",
        "action": "retire",
        "cohort_id": world.cohort.id,
        "session_id": world.exam.id,
        "material_id": world.material.id,
        "attempt_id": world.attempt.id,
        "result_id": world.result.id,
        "number": world.certificate.number,
        "notification_id": world.notification.id,
        "batch_id": world.batch.id,
        "token": world.exam.publicity_token,
        "filename": "css/app.css",
        "job_id": world.job.id,
        "announcement_id": world.announcement.id,
        "application_id": world.application.id,
        "reference": world.application.reference,
    }
    if endpoint.startswith("api."):
        args["item_id"] = world.attempt.items[0].position
    if endpoint.startswith("training.mock"):
        args["attempt_id"] = world.mock.id
    if endpoint == "banks.blueprint_delete":
        args["blueprint_id"] = world.spare_blueprint.id  # the exam's: see test_idor.py
    if endpoint == "registration.announcement_action":
        args["action"] = "close"
    if endpoint == "cohorts.delete_session":
        args["session_id"] = world.cohort_session.id
    return {k: str(v) for k, v in args.items()}


def fill(rule: str, args: dict[str, str]) -> str:
    return re.sub(r"<(?:[^:>]+(?:\([^)]*\))?:)?(\w+)>", lambda m: args[m.group(1)], rule)


def classify(response) -> str:
    status = response.status_code
    if 300 <= status < 400:
        return LOGIN if urlsplit(response.headers["Location"]).path == "/login" else OK
    if status < 300:
        return OK
    if status == 401:
        return LOGIN
    if status in (403, 404, 429):
        return {403: FORBIDDEN, 404: NOT_FOUND, 429: LIMITED}[status]
    if 400 <= status < 500:
        return INVALID
    raise AssertionError(f"server error {status}: {response.get_data(as_text=True)[:300]}")


def call(client: FlaskClient, world: World, key: str, endpoint: str, token: str | None):
    method, rule = key.split(" ", 1)
    url = fill(rule, url_args(world, endpoint))
    if endpoint.startswith("api."):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.open(url, method=method, json=JSON_BODIES.get(endpoint), headers=headers)
    return client.open(url, method=method, data={} if method != "GET" else None)
