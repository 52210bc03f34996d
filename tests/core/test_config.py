import pytest

from certify import create_app
from certify.config import ConfigError, load_settings, normalise_database_url

STRONG = "x" * 20 + "7f3a9c2e1b4d6f8a0c2e4b6d"


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
        {"CERTIFY_ENV": "production", "SECRET_KEY": STRONG, "DATABASE_URL": "postgresql://db/x"},
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
