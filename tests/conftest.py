"""Fixtures: one app per session (SQLite or TEST_DATABASE_URL), a clean database per test."""

from __future__ import annotations

import contextvars
import os
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import close_all_sessions

from certify import create_app
from certify.config import load_settings, normalise_database_url
from certify.core import clock
from certify.extensions import db, limiter

pytest_plugins = ["tests.classes"]

# Tests never depend on wall time: Hypothesis's deadline and its too-slow check do, and fail
# when CI's two passes share the cores. Its example database would write into the checkout.
settings.register_profile(
    "certify", deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
settings.load_profile("certify")

# Hashing every test password with scrypt would make the suite slow; the scheme
# itself is covered by test_password_hash_uses_scrypt_by_default.
FAST_HASH = "pbkdf2:sha256:1000"


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, g and database session, as in production.

    pytest-flask keeps a request context pushed during every test; Flask would reuse
    its app context for the client's requests, so the Babel locale, the logged-in
    user and the session would leak from one request into the next.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def in_fresh_context(func, *args, **kwargs):
    """Run outside the test's pushed contexts (e.g. a CLI command for another app)."""
    return contextvars.Context().run(func, *args, **kwargs)


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = normalise_database_url(url)
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def make_app(database_url, tmp_path_factory):
    """Build another app on the test database, e.g. with CSRF switched on."""
    instance = tmp_path_factory.mktemp("instance")

    def factory(**overrides):
        settings = load_settings(
            {"CERTIFY_ENV": "testing", "DATABASE_URL": database_url}, instance_path=instance
        )
        config = {
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "CERTIFICATE_DIR": str(instance / "certificates"),
        }
        config.update(overrides)
        app = create_app(settings, **config)
        app.test_client_class = IsolatedClient
        return app

    return factory


@pytest.fixture(scope="session")
def app(make_app):
    app = make_app()
    with app.app_context():
        upgrade()
    return app


@pytest.fixture
def client(app):
    """A plain client: pytest-flask's enters `with client:`, which keeps request contexts alive."""
    return app.test_client()


@pytest.fixture(autouse=True)
def _clean_state(app):
    """Every test starts with empty tables, fresh rate limits and a running clock."""
    yield
    clock.unfreeze()
    # The test's own session (in pytest-flask's pushed context) may hold locks.
    close_all_sessions()
    with app.app_context():
        tables = [t for t in reversed(db.metadata.sorted_tables)]
        if db.engine.dialect.name == "postgresql":
            # DELETE and setval, not TRUNCATE: TRUNCATE makes new files for ~45 tables and,
            # on a server with wal_level=minimal, syncs them all to disk at every test's end.
            with db.engine.begin() as conn:
                for table in tables:
                    conn.execute(table.delete())
                sequences = conn.scalars(
                    sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
                ).all()
                for name in sequences:
                    conn.execute(sa.text("SELECT setval(:name, 1, false)"), {"name": name})
        else:
            with db.engine.begin() as conn:
                for table in tables:
                    conn.execute(table.delete())
        limiter.reset()
    # Flask-Limiter keeps "the storage is dead, count in memory" across init_app: after a test
    # of a Redis outage, the next app counted in the fallback until a timed health check moved
    # it back to its own storage mid-test, losing the counts (test_proxy failed at random).
    limiter._storage_dead = False


@pytest.fixture
def frozen_clock():
    moment = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # a Monday, 09:30 in Wenzhou
    clock.freeze(moment)
    yield clock
    clock.unfreeze()


@pytest.fixture
def login(client):
    """Log the test client in through the real login form."""

    def do_login(login_name: str, password: str = "correct-horse-7", **kwargs):
        return client.post("/login", data={"login": login_name, "password": password}, **kwargs)

    return do_login
