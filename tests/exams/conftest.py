import pytest

from certify.accounts.sessions import issue_token
from certify.extensions import db


@pytest.fixture
def token(worker, frozen_clock):
    """The worker's API token, issued on the frozen clock so it lives as long as the exam."""
    value, _expires = issue_token(worker)
    db.session.commit()
    return value


@pytest.fixture
def api(client, token):
    """Call the API as the worker."""

    def call(method, path, json=None, bearer=None):
        return client.open(
            f"/api/v1{path}",
            method=method,
            json=json,
            headers={"Authorization": f"Bearer {bearer or token}"},
        )

    return call
