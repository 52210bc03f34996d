"""Typed configuration read from the environment.

Everything that differs between a laptop, CI and the production servers comes
from environment variables, so the same code runs everywhere and a missing
production setting fails loudly at start-up instead of silently at night.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ENVIRONMENTS = ("development", "testing", "production")

# Values that must never protect a production deployment.
KNOWN_WEAK_SECRETS = frozenset(
    {"", "dev", "development", "secret", "changeme", "change-me", "test", "testing"}
)
MIN_PRODUCTION_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """Raised when the environment cannot produce a safe configuration."""


@dataclass(frozen=True)
class Settings:
    env: str
    secret_key: str
    database_url: str
    base_url: str
    redis_url: str | None
    instance_path: Path
    password_hash_method: str = "scrypt"
    login_lockout_threshold: int = 5
    login_lockout_minutes: int = 15
    login_rate_limit: str = "10 per minute"
    issuer: dict[str, str] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    def flask_mapping(self) -> dict[str, object]:
        """The keys Flask and its extensions read, derived from the settings."""
        engine_options: dict[str, object] = {"pool_pre_ping": True}
        if self.database_url.startswith("sqlite"):
            engine_options = {"connect_args": {"timeout": 15}}
        mapping: dict[str, object] = {
            "CERTIFY_ENV": self.env,
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "BASE_URL": self.base_url.rstrip("/"),
            "REDIS_URL": self.redis_url,
            "TESTING": self.env == "testing",
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.env == "production",
            "REMEMBER_COOKIE_SECURE": self.env == "production",
            "PASSWORD_HASH_METHOD": self.password_hash_method,
            "LOGIN_LOCKOUT_THRESHOLD": self.login_lockout_threshold,
            "LOGIN_LOCKOUT_MINUTES": self.login_lockout_minutes,
            "LOGIN_RATE_LIMIT": self.login_rate_limit,
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "RATELIMIT_HEADERS_ENABLED": True,
            # Redis down must not lock people out: count in memory until it is back.
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_SWALLOW_ERRORS": True,
            "BABEL_DEFAULT_LOCALE": "zh",
            "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
            "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
            **ISSUER_DEFAULTS,
            **self.issuer,
            "CERTIFICATE_DIR": self.issuer.get("CERTIFICATE_DIR")
            or str(PROJECT_ROOT / "certificates"),
        }
        mapping.update(self.extra)
        return mapping


PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The 评价机构 and the bureau, as printed on certificates and used in their numbers. The
# defaults describe the Wenzhou pilot; a deployment sets its own through the environment.
ISSUER_DEFAULTS = {
    "ISSUER_NAME": "温州市总工会职业技能评价中心",
    "ISSUER_KIND": "S",  # S 社会培训评价组织, Y 用人单位
    "ISSUER_CODE": "0000",  # 人社部 institution code; 0000 when filed with the province
    "ISSUER_PROVINCE": "33",  # 浙江 (GB/T 2260)
    "ISSUER_SITE": "030001",  # the site code the province assigned
    "ENDORSING_BODY": "温州市人力资源和社会保障局",
    "VERIFY_LOOKUP_LIMIT": "20 per minute;200 per day",
}
ISSUER_SETTINGS = (*ISSUER_DEFAULTS, "SIGNING_KEY_DIR", "CERTIFICATE_DIR")
# SMTP for notification email (certify/notifications/mail.py); no MAIL_SERVER, no email.
MAIL_SETTINGS = (
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_SSL",
    "MAIL_USE_TLS",
    "MAIL_FROM",
    "MAIL_SEND_AFTER_REQUEST",
)


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, whatever spelling the operator used."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _development_secret(instance_path: Path) -> str:
    """A random key kept in the instance folder so sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_settings(
    environ: dict[str, str] | None = None, instance_path: Path | None = None
) -> Settings:
    env_vars = dict(os.environ if environ is None else environ)
    env = env_vars.get("CERTIFY_ENV", "development").strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"CERTIFY_ENV={env!r} is not one of {', '.join(ENVIRONMENTS)}.")
    instance = Path(env_vars.get("CERTIFY_INSTANCE_PATH") or instance_path or "instance")
    instance = instance.resolve()

    secret = env_vars.get("SECRET_KEY", "")
    if env == "production":
        if secret.strip().lower() in KNOWN_WEAK_SECRETS:
            raise ConfigError(
                "CERTIFY_ENV=production needs a SECRET_KEY: refusing to start with a missing "
                "or default secret key. Generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` "
                "and set it in the environment."
            )
        if len(secret) < MIN_PRODUCTION_SECRET_LENGTH:
            raise ConfigError(
                f"SECRET_KEY is too short for production ({len(secret)} characters); "
                f"use at least {MIN_PRODUCTION_SECRET_LENGTH} random characters."
            )
    elif not secret:
        secret = "testing-only-secret" if env == "testing" else _development_secret(instance)

    default_db = f"sqlite:///{instance / 'certify.db'}"
    database_url = normalise_database_url(env_vars.get("DATABASE_URL") or default_db)
    return Settings(
        env=env,
        secret_key=secret,
        database_url=database_url,
        base_url=env_vars.get("BASE_URL", "http://127.0.0.1:5000"),
        redis_url=env_vars.get("REDIS_URL") or None,
        instance_path=instance,
        issuer={key: env_vars[key] for key in ISSUER_SETTINGS if env_vars.get(key)},
        extra={key: env_vars[key] for key in MAIL_SETTINGS if env_vars.get(key)},
    )
