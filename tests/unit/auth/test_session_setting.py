"""N8NCLONE_SESSION_DAYS: how long a login lasts."""

from __future__ import annotations

import pytest

from n8nclone.config import ConfigError, load_settings


def test_sessions_last_14_days_unless_set():
    assert load_settings({}).session_days == 14
    assert load_settings({"N8NCLONE_SESSION_DAYS": "0.5"}).session_days == 0.5


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "100000"])
def test_a_session_lifetime_we_cannot_use_is_an_error_naming_the_setting(value):
    with pytest.raises(ConfigError, match="N8NCLONE_SESSION_DAYS"):
        load_settings({"N8NCLONE_SESSION_DAYS": value})
