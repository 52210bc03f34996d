"""Typed configuration read from the environment.

Everything that differs between a laptop, CI and the production servers comes
from environment variables, so the same code runs everywhere and a missing
production setting fails loudly at start-up instead of silently at night.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "testing", "production")

# Values that must never protect a production deployment.
KNOWN_WEAK_SECRETS = frozenset(
    {"", "dev", "development", "secret", "changeme", "change-me", "test", "testing"}
)
MIN_PRODUCTION_SECRET_LENGTH = 32
DEFAULT_PORT = 5000
# Working days the 公示 page stays readable after its period, for late objections; then 410.
DEFAULT_PUBLICITY_GRACE_DAYS = 5


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
    # Trusted reverse-proxy hops (werkzeug's ProxyFix): 0 trusts no X-Forwarded-* header.
    proxy_fix_x_for: int = 0
    proxy_fix_x_proto: int = 0
    # Working days the public 公示 page stays readable after its period (late objections).
    publicity_grace_days: int = DEFAULT_PUBLICITY_GRACE_DAYS
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
            "PROXY_FIX_X_FOR": self.proxy_fix_x_for,
            "PROXY_FIX_X_PROTO": self.proxy_fix_x_proto,
            "PUBLICITY_GRACE_DAYS": self.publicity_grace_days,
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

# The one budget of anonymous certificate lookups per client (certify/verification/limits.py);
# VERIFY_LOOKUP_LIMIT in the environment sets another.
DEFAULT_LOOKUP_LIMIT = "20 per minute;200 per day"

# The 评价机构 and the bureau, as printed on certificates and used in their numbers. The
# defaults describe the Wenzhou pilot; a deployment sets its own through the environment.
ISSUER_DEFAULTS = {
    "ISSUER_NAME": "温州市总工会职业技能评价中心",
    "ISSUER_KIND": "S",  # S 社会培训评价组织, Y 用人单位
    "ISSUER_CODE": "0000",  # 人社部 institution code; 0000 when filed with the province
    "ISSUER_PROVINCE": "33",  # 浙江 (GB/T 2260)
    "ISSUER_SITE": "030001",  # the site code the province assigned
    "ENDORSING_BODY": "温州市人力资源和社会保障局",
    "VERIFY_LOOKUP_LIMIT": DEFAULT_LOOKUP_LIMIT,
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


def is_loopback_host(host: str) -> bool:
    """Whether a URL's host can only mean the machine that reads it.

    Such an address in a certificate's QR code opens nothing on the phone that scans it.
    Besides localhost and 127.0.0.0/8 and ::1 in any spelling (127.1, 2130706433,
    ::ffff:127.0.0.1), the unspecified address 0.0.0.0 / :: is refused too.
    """
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        try:  # the shorthand forms browsers accept: 127.1, 0x7f.0.0.1, 2130706433
            address = ipaddress.IPv4Address(socket.inet_aton(name))
        except (OSError, ValueError):
            return False
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_loopback or address.is_unspecified


def check_base_url(url: str, *, production: bool) -> str:
    """BASE_URL as certificates carry it (no trailing slash), or a ConfigError saying why not.

    The address is printed in every certificate's QR code, on slips and in share links, and
    the certificate's signature covers it: a wrong one means re-issuing every certificate.
    """
    value = url.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"BASE_URL={url!r} is not an http(s) URL; "
            "set the public address, e.g. BASE_URL=https://certify.example.gov.cn"
        )
    if parts.username is not None or parts.query or parts.fragment:
        raise ConfigError(
            f"BASE_URL={url!r} must be a plain address (scheme, host, optional port and path): "
            "no user name, query or fragment."
        )
    if production and is_loopback_host(parts.hostname):
        raise ConfigError(
            f"BASE_URL={url!r} is a loopback address: it is printed in every certificate's QR "
            "code and signed into the certificate, and no phone that scans it reaches this "
            "server. Set the public address, e.g. BASE_URL=https://certify.example.gov.cn"
        )
    return value.rstrip("/")


def _port(env_vars: dict[str, str]) -> int:
    """The port `make run` serves on (PORT), for the development BASE_URL."""
    raw = env_vars.get("PORT", "").strip() or str(DEFAULT_PORT)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"PORT={raw!r} is not a TCP port (1-65535).")
    return int(raw)


def _base_url(env: str, env_vars: dict[str, str]) -> str:
    """Production needs BASE_URL; elsewhere it defaults to where `make run` serves."""
    given = env_vars.get("BASE_URL", "").strip()
    if env == "production" and not given:
        raise ConfigError(
            "CERTIFY_ENV=production needs BASE_URL, the public address printed in every "
            "certificate's QR code, on slips and in share links, and covered by each "
            "certificate's signature: refusing to start without it. Set it for good, "
            "e.g. BASE_URL=https://certify.example.gov.cn"
        )
    return check_base_url(
        given or f"http://127.0.0.1:{_port(env_vars)}", production=env == "production"
    )


def _hop_count(env_vars: dict[str, str], name: str) -> int:
    """How many reverse proxies in front of the app to believe (0: none)."""
    raw = env_vars.get(name, "").strip() or "0"
    if not raw.isdigit():
        raise ConfigError(
            f"{name}={raw!r} is not a number of trusted proxies (0 = none, 1 = nginx in front)."
        )
    return int(raw)


def _working_days(env_vars: dict[str, str], name: str, default: int) -> int:
    raw = env_vars.get(name, "").strip() or str(default)
    if not raw.isdigit() or int(raw) > 60:
        raise ConfigError(f"{name}={raw!r} is not a number of working days (0 to 60).")
    return int(raw)


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
        base_url=_base_url(env, env_vars),
        redis_url=env_vars.get("REDIS_URL") or None,
        instance_path=instance,
        proxy_fix_x_for=_hop_count(env_vars, "PROXY_FIX_X_FOR"),
        proxy_fix_x_proto=_hop_count(env_vars, "PROXY_FIX_X_PROTO"),
        publicity_grace_days=_working_days(
            env_vars, "PUBLICITY_GRACE_DAYS", DEFAULT_PUBLICITY_GRACE_DAYS
        ),
        issuer={key: env_vars[key] for key in ISSUER_SETTINGS if env_vars.get(key)},
        extra={key: env_vars[key] for key in MAIL_SETTINGS if env_vars.get(key)},
    )
