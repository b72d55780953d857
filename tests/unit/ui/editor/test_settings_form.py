"""The workflow settings dialog."""

from __future__ import annotations

import pytest

from n8nclone.ui.editor.settings_form import settings_form_values, settings_from_form


def test_settings_round_trip_through_the_dialog() -> None:
    current = {"parallel": 4, "cancel_on": [{"event": "a"}, {"event": "b"}]}
    form = settings_form_values(current)
    assert form["cancel_event"] == "a" and form["more_cancel_rules"] == "1"
    form.update(retries="3", timeout="10m", concurrency_limit="2",
                concurrency_key="{{ trigger.user }}", idempotency_key="{{ trigger.id }}",
                cancel_event="order/cancelled", cancel_match="data.id", budget_usd="0.5")
    settings = settings_from_form(form, current)
    assert settings == {"retries": 3, "timeout": "10m", "parallel": 4,
                        "concurrency": {"limit": 2, "key": "{{ trigger.user }}"},
                        "idempotency_key": "{{ trigger.id }}",
                        "cancel_on": [{"event": "order/cancelled", "match": "data.id"},
                                      {"event": "b"}],
                        "budget_usd": 0.5}
    assert settings_form_values(settings)["concurrency_limit"] == "2"


def test_an_empty_cancel_event_drops_the_first_rule_only() -> None:
    current = {"cancel_on": [{"event": "a"}, {"event": "b"}]}
    form = settings_form_values(current)
    form.update(cancel_event="")
    assert settings_from_form(form, current) == {"cancel_on": [{"event": "b"}]}


def test_a_concurrency_key_needs_a_limit() -> None:
    form = settings_form_values({})
    form.update(concurrency_key="{{ trigger.user }}")
    with pytest.raises(ValueError, match="a key needs a limit"):
        settings_from_form(form, {})


def test_settings_from_form_lists_every_problem() -> None:
    form = settings_form_values({})
    form.update(retries="many", timeout="soon", budget_usd="-1")
    with pytest.raises(ValueError) as raised:
        settings_from_form(form, {})
    assert "retries" in str(raised.value) and "timeout" not in str(raised.value)
    form.update(retries="99")
    with pytest.raises(ValueError) as raised:
        settings_from_form(form, {})
    message = str(raised.value)
    assert "retries" in message and "timeout" in message and "budget_usd" in message
