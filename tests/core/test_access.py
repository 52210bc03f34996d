"""The role decorator, checked against every role-protected route of the app.

The full table (every rule, every role and anonymous, with real objects owned by someone
else) is tests/security/test_access_table.py."""

import re

import pytest

from certify.accounts.models import Role
from certify.banks.blueprints import load_blueprint_json
from certify.banks.importer import import_bank
from certify.cohorts.models import Enrolment
from certify.cohorts.services import CohortData, create_cohort
from certify.demo.data import BANKS_DIR, WAREHOUSE_KEEPER_AREAS
from certify.extensions import db
from tests.factories import make_trade, make_user

ROUTE_ARGS = {
    "code": "warehouse-keeper",
    "user_id": "1",
    "area_id": "1",
    "lang": "en",
    "question_id": "1",
    "blueprint_id": "1",
    "fmt": "csv",
    "action": "retire",
    "cohort_id": "1",
    "session_id": "1",
    "material_id": "1",
    "attempt_id": "1",
    "result_id": "1",
    "number": "S000033030001265000001",
    "notification_id": "1",
    "batch_id": "1",
    "job_id": "1",
    "announcement_id": "1",
    "application_id": "1",
}

ENDPOINT_ARGS = {"registration.announcement_action": {"action": "close"}}


def _protected_routes(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "allowed_roles", None)
        if roles is None:
            continue
        args = {**ROUTE_ARGS, **ENDPOINT_ARGS.get(rule.endpoint, {})}
        url = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m, a=args: a[m.group(1)], rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url, roles


def test_every_admin_page_uses_the_role_decorator(app):
    routes = list(_protected_routes(app))
    endpoints = {endpoint for endpoint, *_ in routes}
    admin_endpoints = {e for e, _m, _u, roles in routes if roles == {Role.ADMIN}}
    assert {
        "accounts.user_list",
        "accounts.user_create",
        "catalog.trade_create",
        "catalog.trade_edit",
        "catalog.trade_delete",
        "catalog.area_add",
    } <= admin_endpoints
    assert {"catalog.trade_list", "accounts.change_password"} <= endpoints
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(
            (
                "/admin",
                "/catalog",
                "/account",
                "/banks",
                "/cohorts",
                "/learn",
                "/exams",
                "/registration",
            )
        ):
            assert rule.endpoint in endpoints, f"{rule.rule} has no role check"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_only_its_pages(app, client, login, role):
    trade = make_trade("warehouse-keeper", areas=tuple(WAREHOUSE_KEEPER_AREAS))
    import_bank(
        trade,
        "bank.csv",
        "题型,题干,选项A,选项B,答案,知识点\n单选题,甲？,甲,乙,A,入库作业/验收\n".encode(),
    )
    load_blueprint_json((BANKS_DIR / "warehouse-keeper-5.blueprint.json").read_text(), "bp")
    user = make_user(role, username=f"u-{role.value}", trades=("warehouse-keeper",))
    cohort = create_cohort(
        trade, CohortData("2026年第一期", 5, None, "", [user.id] if role is Role.TRAINER else [])
    )
    if role is Role.WORKER:
        db.session.add(Enrolment(cohort=cohort, user=user))
    db.session.commit()
    ROUTE_ARGS["user_id"] = str(make_user(Role.WORKER, username="someone-else").id)
    login(user.username)
    for endpoint, method, url, roles in _protected_routes(app):
        response = client.open(url, method=method)
        if role in (roles or set(Role)):
            assert response.status_code != 403, f"{role} refused at {method} {url}"
        else:
            assert response.status_code == 403, f"{role} let into {method} {url} ({endpoint})"
            assert "你没有权限查看这个页面" in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login_from_every_protected_page(app, client):
    for _endpoint, method, url, _roles in _protected_routes(app):
        response = client.open(url, method=method)
        assert response.status_code == 302, f"{method} {url}"
        assert response.headers["Location"].startswith("/login")
