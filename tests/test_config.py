"""Settings: defaults, then PORTAL_* variables, then the caller's overrides; a missing secret stops
start-up naming the key (STYLE §2, no fallbacks in code)."""

from __future__ import annotations

import os

import pytest

from portal import config, create_app

REQUIRED = ("SECRET_KEY", "AUDIT_KEY", "DATABASE_URL")


@pytest.fixture
def clean_env(monkeypatch):
    """No PORTAL_* variable from the developer's shell or CI leaks into these tests."""
    for key in list(os.environ):
        if key.startswith("PORTAL_"):
            monkeypatch.delenv(key)
    return monkeypatch


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_refuses_to_start_without_a_required_key(clean_env, missing):
    for key in REQUIRED:
        if key != missing:
            clean_env.setenv(f"PORTAL_{key}", "sqlite://" if key == "DATABASE_URL" else "a-real-secret")
    with pytest.raises(config.ConfigError, match=f"PORTAL_{missing}"):
        create_app({"ENV": "production"})


def test_production_names_every_missing_key(clean_env):
    with pytest.raises(config.ConfigError) as info:
        create_app()  # ENV defaults to production
    for key in REQUIRED:
        assert f"PORTAL_{key}" in str(info.value)


def test_production_env_variable_cannot_be_relaxed_by_accident(clean_env):
    clean_env.setenv("PORTAL_ENV", "staging")
    with pytest.raises(config.ConfigError, match="PORTAL_ENV"):
        config.load()


def test_environment_overrides_defaults(clean_env):
    clean_env.setenv("PORTAL_MAX_UPLOAD_MB", "20")
    clean_env.setenv("PORTAL_TIMEZONE", "Asia/Bangkok")
    clean_env.setenv("PORTAL_SESSION_COOKIE_SECURE", "true")
    settings = config.load({"ENV": "development"})
    assert settings["MAX_UPLOAD_MB"] == 20
    assert isinstance(settings["MAX_UPLOAD_MB"], int)
    assert settings["MAX_CONTENT_LENGTH"] == 21 * 1024 * 1024
    assert settings["TIMEZONE"] == "Asia/Bangkok"
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_overrides_win_over_environment(clean_env):
    clean_env.setenv("PORTAL_TIMEZONE", "Asia/Bangkok")
    assert config.load({"ENV": "development", "TIMEZONE": "UTC"})["TIMEZONE"] == "UTC"


def test_production_takes_its_keys_from_the_environment(clean_env):
    clean_env.setenv("PORTAL_SECRET_KEY", "s3cret-from-env")
    clean_env.setenv("PORTAL_AUDIT_KEY", "audit-from-env")
    clean_env.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://portal@db/portal")
    settings = config.load()
    assert settings["ENV"] == "production"
    assert settings["SECRET_KEY"] == "s3cret-from-env"
    assert settings["AUDIT_KEY"] == "audit-from-env"
    assert settings["DATABASE_URL"] == "postgresql+psycopg://portal@db/portal"


def test_numeric_looking_secret_stays_a_string(clean_env):
    """A generated key may happen to be all digits; signing needs a str, not an int."""
    clean_env.setenv("PORTAL_SECRET_KEY", "123456789012345678901234567890")
    clean_env.setenv("PORTAL_AUDIT_KEY", "1e5")
    clean_env.setenv("PORTAL_DATABASE_URL", "sqlite://")
    settings = config.load()
    assert settings["SECRET_KEY"] == "123456789012345678901234567890"
    assert settings["AUDIT_KEY"] == "1e5"


def test_defaults(clean_env):
    settings = config.load({"ENV": "development"})
    assert settings["TIMEZONE"] == "Asia/Ho_Chi_Minh"
    assert settings["MAX_UPLOAD_MB"] == 50
    assert settings["BABEL_DEFAULT_LOCALE"] == "vi"


def test_development_gets_a_fresh_secret_never_a_constant(clean_env):
    first = config.load({"ENV": "development"})["SECRET_KEY"]
    second = config.load({"ENV": "development"})["SECRET_KEY"]
    assert first
    assert second
    assert first != second


@pytest.mark.parametrize("env", ["production", "development"])
def test_malformed_upload_limit_names_the_key(clean_env, env):
    clean_env.setenv("PORTAL_MAX_UPLOAD_MB", "nhiều")
    with pytest.raises(config.ConfigError, match="PORTAL_MAX_UPLOAD_MB"):
        config.load({"ENV": env, "SECRET_KEY": "k", "AUDIT_KEY": "k", "DATABASE_URL": "sqlite://"})


def test_the_test_app_runs_in_testing_mode(app):
    assert app.config["ENV"] == "testing"
    assert app.config["TIMEZONE"] == "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize(("env", "key"), [
    ({"PORTAL_LDAP_URL": "ldap://ldap.hanam.gov.vn:389"}, "PORTAL_LDAP_START_TLS"),
    ({"PORTAL_LDAP_URL": "http://ldap.hanam.gov.vn"}, "PORTAL_LDAP_URL"),
    ({"PORTAL_PASSWORD_MIN_LENGTH": "6"}, "PORTAL_PASSWORD_MIN_LENGTH"),
    ({"PORTAL_PASSWORD_HISTORY": "-1"}, "PORTAL_PASSWORD_HISTORY"),
])
def test_account_settings_that_cannot_work_stop_start_up(clean_env, env, key):
    for name, value in env.items():
        clean_env.setenv(name, value)
    with pytest.raises(config.ConfigError, match=key):
        config.load({"TESTING": True})


def test_ldap_and_policy_settings_come_from_the_environment(clean_env):
    clean_env.setenv("PORTAL_LDAP_START_TLS", "true")
    clean_env.setenv("PORTAL_LDAP_TIMEOUT", "3")
    clean_env.setenv("PORTAL_PASSWORD_MIN_LENGTH", "14")
    clean_env.setenv("PORTAL_LDAP_BIND_PASSWORD", "12345678")
    settings = config.load({"TESTING": True})
    assert settings["LDAP_START_TLS"] is True
    assert settings["LDAP_TIMEOUT"] == 3
    assert settings["PASSWORD_MIN_LENGTH"] == 14
    assert settings["LDAP_BIND_PASSWORD"] == "12345678"  # a secret stays text
