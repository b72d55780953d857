"""Settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from n8nclone.config import ConfigError, load_settings


def test_defaults_with_an_empty_environment():
    # given no variables
    # when settings are loaded
    settings = load_settings({})

    # expect the embedded default: SQLite under ./data, no Redis
    assert settings.data_dir == Path("data")
    assert settings.database_url == "sqlite:///data/n8nclone.db"
    assert settings.is_sqlite is True
    assert settings.redis_url is None
    assert settings.uses_redis is False
    assert settings.redis_namespace == "n8nclone"
    assert (settings.worker_threads, settings.default_retries, settings.port) == (8, 3, 3000)
    assert (settings.retry_backoff_base, settings.retry_backoff_cap) == (1.0, 300.0)
    assert settings.log_level == "INFO"


def test_reads_every_variable():
    # given every setting in the environment
    env = {
        "N8NCLONE_DATA_DIR": "/tmp/n8n-data",
        "DATABASE_URL": "postgresql+psycopg://u:p@db:5432/n8n",
        "REDIS_URL": "redis://cache:6379/0",
        "N8NCLONE_REDIS_NAMESPACE": "ns",
        "N8NCLONE_WORKER_THREADS": "16",
        "N8NCLONE_LEASE_SECONDS": "12.5",
        "N8NCLONE_SWEEP_INTERVAL": "0.5",
        "N8NCLONE_SWEEP_GRACE": "0",
        "N8NCLONE_PARALLEL_STEPS": "2",
        "N8NCLONE_DEFAULT_RETRIES": "0",
        "N8NCLONE_RETRY_BACKOFF_BASE": "0.05",
        "N8NCLONE_RETRY_BACKOFF_CAP": "0.5",
        "N8NCLONE_PORT": "8080",
        "N8NCLONE_LOG_LEVEL": "debug",
    }

    # when settings are loaded
    s = load_settings(env)

    # expect each value, typed
    assert s.data_dir == Path("/tmp/n8n-data")
    assert s.database_url == "postgresql+psycopg://u:p@db:5432/n8n"
    assert s.is_sqlite is False
    assert s.redis_url == "redis://cache:6379/0"
    assert s.uses_redis is True
    assert s.redis_namespace == "ns"
    assert (s.worker_threads, s.parallel_steps, s.default_retries, s.port) == (16, 2, 0, 8080)
    assert isinstance(s.worker_threads, int)
    assert (s.lease_seconds, s.sweep_interval, s.sweep_grace) == (12.5, 0.5, 0.0)
    assert (s.retry_backoff_base, s.retry_backoff_cap) == (0.05, 0.5)
    assert s.log_level == "DEBUG"


def test_default_database_lives_in_the_data_dir():
    # given only a data dir
    # when settings are loaded
    settings = load_settings({"N8NCLONE_DATA_DIR": "/srv/n8n"})

    # expect the SQLite file inside it
    assert settings.database_url == "sqlite:////srv/n8n/n8nclone.db"


def test_empty_values_mean_the_default():
    # given variables set to ""
    # when settings are loaded
    settings = load_settings({"N8NCLONE_WORKER_THREADS": "", "REDIS_URL": "", "DATABASE_URL": ""})

    # expect defaults
    assert settings.worker_threads == 8
    assert settings.redis_url is None
    assert settings.is_sqlite


def test_reads_the_process_environment_by_default(monkeypatch):
    # given a variable in the process environment
    monkeypatch.setenv("N8NCLONE_WORKER_THREADS", "3")
    monkeypatch.delenv("DATABASE_URL", raising=False)

    # when settings are loaded without an explicit env
    settings = load_settings()

    # expect it read
    assert settings.worker_threads == 3


def test_plain_postgresql_url_is_rewritten_for_psycopg():
    # given the URL form people paste
    # when settings are loaded
    settings = load_settings({"DATABASE_URL": "postgresql://u:p@db:5432/n8n"})

    # expect the psycopg 3 driver named, the rest untouched
    assert settings.database_url == "postgresql+psycopg://u:p@db:5432/n8n"


@pytest.mark.parametrize("url", ["mysql://u@db/n8n", "redis://x", "postgres://u@db/n8n"])
def test_unsupported_database_urls_are_rejected(url):
    # given a database we do not support
    # when settings are loaded
    # expect a ConfigError naming the variable
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings({"DATABASE_URL": url})


@pytest.mark.parametrize(("name", "raw"), [
    ("N8NCLONE_WORKER_THREADS", "many"),
    ("N8NCLONE_WORKER_THREADS", "2.5"),
    ("N8NCLONE_PORT", "http"),
    ("N8NCLONE_LEASE_SECONDS", "30s"),
    ("N8NCLONE_DEFAULT_RETRIES", "three"),
])
def test_unreadable_numbers_name_the_variable(name, raw):
    # given a variable that is not a number of the right kind
    # when settings are loaded
    with pytest.raises(ConfigError) as caught:
        load_settings({name: raw})

    # expect the variable and its value in the message
    assert name in str(caught.value)
    assert repr(raw) in str(caught.value)


@pytest.mark.parametrize(("name", "raw"), [
    ("N8NCLONE_WORKER_THREADS", "0"),
    ("N8NCLONE_LEASE_SECONDS", "0.5"),
    ("N8NCLONE_SWEEP_INTERVAL", "0"),
    ("N8NCLONE_DEFAULT_RETRIES", "-1"),
    ("N8NCLONE_PORT", "0"),
    ("N8NCLONE_PORT", "70000"),
])
def test_out_of_range_numbers_name_the_variable(name, raw):
    # given a number outside what the setting allows
    # when settings are loaded
    # expect a ConfigError naming the variable
    with pytest.raises(ConfigError, match=name):
        load_settings({name: raw})


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_rejected(raw):
    # given NaN or infinity, which float() accepts
    # when settings are loaded
    # expect a ConfigError naming the variable
    with pytest.raises(ConfigError, match="N8NCLONE_LEASE_SECONDS"):
        load_settings({"N8NCLONE_LEASE_SECONDS": raw})


def test_config_error_is_a_value_error():
    # given a bad setting
    # when loaded
    # expect callers catching ValueError to see it too
    with pytest.raises(ValueError):
        load_settings({"N8NCLONE_PORT": "x"})
