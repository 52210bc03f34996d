"""One commit per request, at the edge (certify/core/transactions.py), on an app of its own
with a few routes that write one row each way."""

import pytest
import sqlalchemy as sa
from flask import Blueprint
from sqlalchemy.exc import OperationalError

from certify.accounts.models import LoginThrottle
from certify.core.transactions import (
    WriteOnRead,
    discard_changes,
    keep_changes,
    writes_on_read,
)
from certify.extensions import csrf, db

probe = Blueprint("probe", __name__, url_prefix="/probe")
csrf.exempt(probe)


def _write(key: str) -> None:
    db.session.add(LoginThrottle(login_key=key, address="test", failures=1))
    db.session.flush()


@probe.post("/ok")
def ok():
    _write("ok")
    return "saved"


@probe.post("/refused")
def refused():
    _write("refused")
    return "no", 422


@probe.post("/kept")
def kept():
    _write("kept")
    keep_changes()
    return "counted", 401


@probe.post("/shown-again")
def shown_again():
    _write("shown-again")
    discard_changes()
    return "the form, with its problems"


@probe.get("/reads")
def reads():
    _write("reads")
    return "oops"


@probe.get("/declared")
@writes_on_read("a test that says why")
def declared():
    _write("declared")
    return "fine"


@pytest.fixture(scope="module")
def probe_app(make_app):
    app = make_app()
    app.register_blueprint(probe)
    return app


def _keys(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(sa.select(LoginThrottle.login_key)))


def test_a_success_is_committed_and_a_refusal_is_not(probe_app):
    client = probe_app.test_client()
    assert client.post("/probe/ok").status_code == 200
    assert client.post("/probe/refused").status_code == 422
    assert _keys(probe_app) == {"ok"}


def test_a_refusal_that_must_be_recorded_is_kept(probe_app):
    assert probe_app.test_client().post("/probe/kept").status_code == 401
    assert _keys(probe_app) == {"kept"}


def test_a_form_shown_again_keeps_nothing(probe_app):
    assert probe_app.test_client().post("/probe/shown-again").status_code == 200
    assert _keys(probe_app) == set()


def test_a_read_that_writes_fails_under_testing_and_keeps_nothing(probe_app):
    with pytest.raises(WriteOnRead):
        probe_app.test_client().get("/probe/reads")
    assert _keys(probe_app) == set()


def test_a_read_that_says_why_may_write(probe_app):
    assert probe_app.test_client().get("/probe/declared").status_code == 200
    assert _keys(probe_app) == {"declared"}


def test_a_commit_that_fails_answers_busy_and_keeps_nothing(probe_app, monkeypatch):
    def locked():
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    with probe_app.app_context():
        monkeypatch.setattr(db.session, "commit", locked)
    response = probe_app.test_client().post("/probe/ok", headers={"Accept": "application/json"})
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "busy"
    assert _keys(probe_app) == set()
