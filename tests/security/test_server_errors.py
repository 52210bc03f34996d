"""Server errors the review found outside the API (certify/api/ ones are fixed and tested in
test_schemathesis.py)."""

import re

import pytest
import sqlalchemy as sa

from certify.banks.models import ExamBlueprint
from certify.extensions import db
from tests.security.access import fill, rule_keys, url_args
from tests.security.conftest import log_in

HUGE = "99999999999999999999"  # > 2**63: SQLite's driver raises OverflowError


@pytest.mark.parametrize("actor", ["admin", "owner"])
def test_an_id_beyond_the_columns_is_never_a_server_error(app, client, world, login_as, actor):
    login_as(actor)
    errors = []
    for key, method, endpoint in rule_keys(app):
        rule = key.split(" ", 1)[1]
        if method != "GET" or "<int:" not in rule:
            continue
        huge = dict.fromkeys(re.findall(r"<int:(\w+)>", rule), HUGE)
        url = fill(rule, {**url_args(world, endpoint), **huge})
        status = client.get(url).status_code
        if status >= 500:
            errors.append(f"{url} → {status}")
    assert not errors, "\n".join(errors)


def test_deleting_a_blueprint_in_use_is_refused_not_a_server_error(client, world):
    log_in(client, "teacher")
    url = f"/banks/{world.trade.code}/blueprints/{world.blueprint.id}/delete"
    response = client.post(url)
    assert response.status_code < 500
    db.session.expire_all()
    assert db.session.scalar(sa.select(ExamBlueprint).where(ExamBlueprint.id == world.blueprint.id))
