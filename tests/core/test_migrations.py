"""The migrations build the schema the models describe, on SQLite and on PostgreSQL."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from certify.config import load_settings
from certify.extensions import db
from tests.conftest import in_fresh_context


def test_migrated_database_matches_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def _fresh_database_url(database_url: str, tmp_path) -> str:
    if database_url.startswith("postgresql"):
        engine = sa.create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA migration_check"))
        engine.dispose()
        return f"{database_url}?options=-csearch_path%3Dmigration_check"
    return f"sqlite:///{tmp_path / 'fresh.db'}"


def test_db_upgrade_builds_a_fresh_database_and_downgrades_cleanly(database_url, tmp_path):
    from certify import create_app

    url = _fresh_database_url(database_url, tmp_path)
    settings = load_settings({"CERTIFY_ENV": "testing", "DATABASE_URL": url}, tmp_path)
    fresh = create_app(settings)
    runner = fresh.test_cli_runner()
    result = in_fresh_context(runner.invoke, args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"users", "trades", "knowledge_areas", "audit_events", "alembic_version"} <= tables
        db.engine.dispose()
    result = in_fresh_context(runner.invoke, args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
    assert in_fresh_context(runner.invoke, args=["db", "upgrade"]).exit_code == 0
    with fresh.app_context():
        db.engine.dispose()
