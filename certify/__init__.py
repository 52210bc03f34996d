"""Certify: training, exams and verifiable certificates for skill self-evaluation."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import event
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from certify.config import Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None, **overrides: object) -> Flask:
    """Build an app: config → extensions → blueprints → CLI → error handlers."""
    settings = settings or load_settings()
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_mapping(settings.flask_mapping())
    app.config.update(overrides)
    # JSON in UTF-8 as it is (RFC 8259), not \uXXXX: a 90-question paper is 40 % smaller
    # for a phone on a slow network.
    app.json.ensure_ascii = False
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    _init_extensions(app)
    _register_transactions(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_error_handlers(app)
    _register_template_helpers(app)
    _register_security_headers(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For (and -Proto) from as many proxies as configured, no more.

    Rate limits key on request.remote_addr. Behind nginx every request comes from nginx's
    address, so without this every client shares one bucket; trusting a hop that is not
    there would let any client pick its own address by sending the header.
    """
    x_for = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    x_proto = int(app.config.get("PROXY_FIX_X_PROTO") or 0)
    if x_for or x_proto:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=x_for, x_proto=x_proto, x_host=0, x_port=0)


def _register_transactions(app: Flask) -> None:
    from certify.core.transactions import init_transactions

    init_transactions(app)


def _register_security_headers(app: Flask) -> None:
    from certify.core.security import init_security

    init_security(app)


def _register_answer_sources() -> None:
    """The bank's lint reads how exams and mocks were answered; they sit above the banks."""
    from certify.banks.lint import register_answer_source
    from certify.exams.answers import exam_answers
    from certify.training.services import mock_answers

    register_answer_source(exam_answers)
    register_answer_source(mock_answers)


def _init_extensions(app: Flask) -> None:
    # Import every model module so the metadata is complete for Alembic and create_all.
    from certify import models  # noqa: F401
    from certify.accounts.sessions import load_user
    from certify.core import i18n
    from certify.core.auth import configure_login_manager, enforce_password_change
    from certify.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True, render_as_batch=True
    )
    login_manager.init_app(app)
    configure_login_manager(load_user)
    _register_answer_sources()
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    app.before_request(i18n.remember_requested_locale)
    app.before_request(enforce_password_change)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers and one writer work at once; SQLite needs foreign keys switched on."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` matches only ids an INTEGER column can hold: a bigger one names nothing
    (404), where it would overflow SQLite's driver and answer 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    from certify.accounts.views import bp as accounts_bp
    from certify.api.views import bp as api_bp
    from certify.audit.views import bp as audit_bp
    from certify.banks.views import bp as banks_bp
    from certify.catalog.views import bp as catalog_bp
    from certify.certificates.views import bp as certificates_bp
    from certify.cohorts.views import bp as cohorts_bp
    from certify.core.views import bp as core_bp
    from certify.endorsement.views import bp as endorsement_bp
    from certify.exams.views import bp as exams_bp
    from certify.home.views import bp as home_bp
    from certify.jobs.views import bp as jobs_bp
    from certify.notifications.views import bp as notifications_bp
    from certify.registration.views import bp as registration_bp
    from certify.results.views import bp as results_bp
    from certify.training.views import bp as training_bp
    from certify.verification.views import bp as verification_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(banks_bp)
    app.register_blueprint(cohorts_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(training_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(exams_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(verification_bp)
    app.register_blueprint(endorsement_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(jobs_bp)


def _register_cli(app: Flask) -> None:
    from certify.accounts.cli import users_cli
    from certify.audit.cli import audit_cli
    from certify.banks.cli import banks_cli, blueprints_cli
    from certify.catalog.cli import trades_cli
    from certify.certificates.cli import certificates_cli, keys_cli
    from certify.cohorts.cli import cohorts_cli
    from certify.demo.cli import demo_cli
    from certify.endorsement.cli import endorsement_cli
    from certify.exams.cli import exams_cli
    from certify.jobs.cli import jobs_cli
    from certify.notifications.cli import notifications_cli
    from certify.results.cli import results_cli  # also adds `exams practical-scores`

    for group in (
        users_cli,
        trades_cli,
        demo_cli,
        banks_cli,
        blueprints_cli,
        cohorts_cli,
        exams_cli,
        results_cli,
        certificates_cli,
        keys_cli,
        endorsement_cli,
        audit_cli,
        notifications_cli,
        jobs_cli,
    ):
        app.cli.add_command(group)


def _register_error_handlers(app: Flask) -> None:
    from certify.core.errors import DomainError
    from certify.core.views import handle_domain_error, handle_http_exception, handle_unexpected

    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(Exception, handle_unexpected)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from certify.accounts.models import Role
    from certify.banks.types import QuestionType
    from certify.catalog.models import level_label
    from certify.core import clock
    from certify.core.forms import page_url
    from certify.core.i18n import HTML_LANG, LOCALE_NAMES, SUPPORTED_LOCALES
    from certify.core.masking import mask_id_number, mask_name, mask_phone

    @app.context_processor
    def inject_globals() -> dict[str, object]:
        locale = str(get_locale() or "zh")
        return {
            "Role": Role,
            "QuestionType": QuestionType,
            "current_locale": locale,
            "html_lang": HTML_LANG.get(locale, "zh-CN"),
            "locale_names": LOCALE_NAMES,
            "supported_locales": SUPPORTED_LOCALES,
        }

    app.jinja_env.globals["level_label"] = level_label
    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.filters["mask_name"] = mask_name
    app.jinja_env.filters["mask_phone"] = mask_phone

    @app.template_filter("local_time")
    def local_time(moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return clock.local(moment).strftime(fmt) if moment else ""
