import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from certify import create_app
from certify.config import ConfigError, load_settings, normalise_database_url

STRONG = "x" * 20 + "7f3a9c2e1b4d6f8a0c2e4b6d"
PUBLIC = "https://certify.example.gov.cn"
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("secret", [None, "", "dev", "changeme", "secret"])
def test_production_refuses_missing_or_default_secret_key(secret, tmp_path):
    env = {"CERTIFY_ENV": "production"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(env, instance_path=tmp_path)


def test_production_refuses_a_short_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="too short"):
        load_settings({"CERTIFY_ENV": "production", "SECRET_KEY": "abc123def"}, tmp_path)


def test_production_refusal_stops_the_app_factory(monkeypatch, tmp_path):
    monkeypatch.setenv("CERTIFY_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("CERTIFY_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError):
        create_app()


def test_production_with_a_strong_key_is_hardened(tmp_path):
    settings = load_settings(
        {
            "CERTIFY_ENV": "production",
            "SECRET_KEY": STRONG,
            "DATABASE_URL": "postgresql://db/x",
            "BASE_URL": PUBLIC,
        },
        tmp_path,
    )
    mapping = settings.flask_mapping()
    assert mapping["SECRET_KEY"] == STRONG
    assert mapping["SESSION_COOKIE_SECURE"] is True
    assert mapping["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/x"


def test_development_keeps_a_generated_key_in_the_instance_folder(tmp_path):
    first = load_settings({}, tmp_path).secret_key
    second = load_settings({}, tmp_path).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_sqlite_in_the_instance_folder_is_the_default(tmp_path):
    settings = load_settings({"CERTIFY_ENV": "testing"}, tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'certify.db'}"


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="CERTIFY_ENV"):
        load_settings({"CERTIFY_ENV": "staging"}, tmp_path)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg3(given, expected):
    assert normalise_database_url(given) == expected


def test_base_url_and_redis_url_come_from_the_environment(tmp_path):
    settings = load_settings(
        {"BASE_URL": "https://cert.example.cn/", "REDIS_URL": "redis://127.0.0.1:6379/0"},
        tmp_path,
    )
    mapping = settings.flask_mapping()
    assert mapping["BASE_URL"] == "https://cert.example.cn"
    assert mapping["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


# --- the public address (BASE_URL) -------------------------------------------------------------

PRODUCTION = {"CERTIFY_ENV": "production", "SECRET_KEY": STRONG}


def test_production_refuses_to_start_without_base_url(tmp_path):
    with pytest.raises(ConfigError, match="needs BASE_URL") as refused:
        load_settings(PRODUCTION, tmp_path)
    assert "QR code" in str(refused.value)  # it says why


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5000",
        "http://127.0.1.1/",
        "https://localhost",
        "http://LocalHost.:8000/",
        "http://certify.localhost",
        "http://[::1]:5000",
        "http://[::ffff:127.0.0.1]/",
        "http://127.1:5000",
        "http://2130706433/",
        "http://0.0.0.0:8000",
    ],
)
def test_production_refuses_a_loopback_base_url(url, tmp_path):
    with pytest.raises(ConfigError, match="loopback"):
        load_settings({**PRODUCTION, "BASE_URL": url}, tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "certify.example.gov.cn",
        "ftp://certify.example.gov.cn",
        "https://",
        "https://certify.example.gov.cn:port",
        "https://user:pw@certify.example.gov.cn",
        "https://certify.example.gov.cn/?a=1",
    ],
)
def test_production_refuses_a_base_url_that_is_not_a_plain_http_address(url, tmp_path):
    with pytest.raises(ConfigError, match="BASE_URL"):
        load_settings({**PRODUCTION, "BASE_URL": url}, tmp_path)


@pytest.mark.parametrize(
    ("given", "carried"),
    [
        (f"{PUBLIC}/", PUBLIC),
        ("http://10.20.0.5:8000", "http://10.20.0.5:8000"),  # an intranet address is reachable
        ("https://www.example.cn/certify/", "https://www.example.cn/certify"),
    ],
)
def test_production_accepts_a_public_base_url(given, carried, tmp_path):
    settings = load_settings({**PRODUCTION, "BASE_URL": given}, tmp_path)
    assert settings.base_url == carried
    assert settings.flask_mapping()["BASE_URL"] == carried


def test_development_base_url_follows_port(tmp_path):
    assert load_settings({}, tmp_path).base_url == "http://127.0.0.1:5000"
    assert load_settings({"PORT": "8000"}, tmp_path).base_url == "http://127.0.0.1:8000"
    app = create_app(load_settings({"PORT": "8000"}, tmp_path))
    assert app.config["BASE_URL"] == "http://127.0.0.1:8000"


def test_development_keeps_a_base_url_that_is_given(tmp_path):
    settings = load_settings({"PORT": "8000", "BASE_URL": "http://127.0.0.1:9000/"}, tmp_path)
    assert settings.base_url == "http://127.0.0.1:9000"  # loopback is fine on a laptop


@pytest.mark.parametrize("port", ["http", "0", "70000"])
def test_a_port_that_is_not_a_port_is_refused(port, tmp_path):
    with pytest.raises(ConfigError, match="PORT"):
        load_settings({"PORT": port}, tmp_path)


def _flask(args: list[str], env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    """The real command line, as an operator runs it, with nothing from this test's env."""
    flask = Path(sys.executable).with_name("flask")
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "CERTIFY_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        **env,
    }
    return subprocess.run(
        [str(flask), "--app", "wsgi", *args],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_line_refuses_production_without_base_url(tmp_path):
    done = _flask(["routes"], PRODUCTION, tmp_path)
    assert done.returncode != 0
    assert "needs BASE_URL" in done.stderr
    assert "Traceback" not in done.stderr  # the reason, not a stack


def test_the_start_up_log_says_which_address_certificates_carry(tmp_path):
    done = _flask(["routes"], {**PRODUCTION, "BASE_URL": f"{PUBLIC}/"}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"carry {PUBLIC} (BASE_URL)" in done.stderr
    done = _flask(["routes"], {"PORT": "8000"}, tmp_path)
    assert "carry http://127.0.0.1:8000 (BASE_URL)" in done.stderr


class _Log:
    def __init__(self):
        self.lines: list[str] = []

    def info(self, message, *args):
        self.lines.append(message % args)

    error = info


class _Server:
    def __init__(self):
        self.log = _Log()


def test_gunicorn_says_the_address_once_and_refuses_production_without_it(monkeypatch, tmp_path):
    hooks = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    monkeypatch.setenv("CERTIFY_INSTANCE_PATH", str(tmp_path))
    for key, value in PRODUCTION.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("BASE_URL", raising=False)
    server = _Server()
    with pytest.raises(SystemExit):
        hooks["on_starting"](server)
    assert "needs BASE_URL" in server.log.lines[-1]

    monkeypatch.setenv("BASE_URL", PUBLIC)
    server = _Server()
    hooks["on_starting"](server)
    (line,) = server.log.lines
    assert line == f"Certificates, QR codes, slips and share links carry {PUBLIC} (BASE_URL)"


def test_the_publicity_grace_comes_from_the_environment(tmp_path):
    settings = load_settings({"CERTIFY_ENV": "testing", "PUBLICITY_GRACE_DAYS": "7"}, tmp_path)
    assert settings.flask_mapping()["PUBLICITY_GRACE_DAYS"] == 7
    assert load_settings({"CERTIFY_ENV": "testing"}, tmp_path).publicity_grace_days == 5
    with pytest.raises(ConfigError, match="PUBLICITY_GRACE_DAYS"):
        load_settings({"CERTIFY_ENV": "testing", "PUBLICITY_GRACE_DAYS": "soon"}, tmp_path)
