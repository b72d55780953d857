"""`trigger.schedule`: its parameters checked at save, its registration, its output."""

from __future__ import annotations

import pytest

from n8nclone.nodes.base import NodeContext
from n8nclone.nodes.registry import default_registry
from n8nclone.nodes.trigger_schedule import ScheduleTrigger
from n8nclone.triggers.registration import Registration
from n8nclone.workflows import check_workflow, problems_of, registrations_of


def workflow(**params) -> dict:
    return {"name": "nightly",
            "nodes": [{"key": "clock", "type": "trigger.schedule", "params": params},
                      {"key": "note", "type": "data.set", "params": {"values": {"a": 1}}}],
            "edges": [{"from": "clock", "to": "note"}]}


def problems(**params) -> list:
    return problems_of(workflow(**params), default_registry())


def test_is_a_registered_trigger_with_a_form():
    # given the default registry
    node_type = default_registry().get("trigger.schedule")

    # expect the schedule trigger, describing cron (required) and timezone (default UTC)
    assert node_type is ScheduleTrigger and node_type.is_trigger
    described = {p["name"]: p for p in node_type.describe()["params"]}
    assert described["cron"]["required"] is True
    assert described["timezone"]["default"] == "UTC"


def test_a_valid_schedule_has_no_problem():
    assert problems(cron="*/5 9-17 * * 1-5", timezone="Europe/Berlin") == []
    assert problems(cron="0 3 * * *") == []  # timezone defaults to UTC


def test_a_missing_cron_names_the_node():
    # when the cron is left out
    found = problems()

    # expect one problem, naming the node and the field
    assert [(p.node, p.field) for p in found] == [("clock", "params.cron")]
    assert "missing required parameter 'cron'" in found[0].message


@pytest.mark.parametrize(("cron", "says"), [
    ("61 * * * *", "not a valid cron expression"),
    ("* * * *", "needs 5 fields"),
    ("0 0 31 2 *", "never matches"),
    ("{{ trigger.when }}", "cannot be a template"),
    (15, "text with 5 fields"),
])
def test_a_bad_cron_is_a_readable_problem_naming_the_node(cron, says):
    # when saved with a bad cron
    found = problems(cron=cron)

    # expect a problem naming the node, its type and the parameter
    assert len(found) == 1
    assert (found[0].node, found[0].field) == ("clock", "params.cron")
    assert found[0].message.startswith("node 'clock' (trigger.schedule): parameter 'cron': ")
    assert says in found[0].message


def test_an_unknown_timezone_is_a_readable_problem():
    found = problems(cron="0 * * * *", timezone="Europe/Atlantis")
    assert [(p.node, p.field) for p in found] == [("clock", "params.timezone")]
    assert "unknown timezone 'Europe/Atlantis'" in found[0].message


def test_bad_cron_and_timezone_are_both_reported():
    assert {p.field for p in problems(cron="nope", timezone="Nowhere")} == {
        "params.cron", "params.timezone"}


def test_registration_is_keyed_by_the_cron_with_its_params():
    # given a saved schedule workflow's plan
    _, plan = check_workflow(workflow(cron=" 0  9 * * 1 ", timezone="Asia/Tokyo"),
                             default_registry())

    # when its registration is computed
    found = registrations_of(plan, default_registry())

    # expect kind, cron (normalized) as key, the params (with the timezone) as config
    assert found == [Registration(kind="trigger.schedule", key="0 9 * * 1", node_key="clock",
                                  config={"cron": "0 9 * * 1", "timezone": "Asia/Tokyo"})]


def test_registration_fills_in_the_default_timezone():
    registration = ScheduleTrigger.registration(ScheduleTrigger.with_defaults(
        {"cron": "0 * * * *"}))
    assert registration.config == {"cron": "0 * * * *", "timezone": "UTC"}


def test_outputs_the_scheduled_tick():
    # given the input the scheduler gives a run
    tick = {"scheduled_at": "2026-05-01T09:00:00+02:00", "timezone": "Europe/Berlin",
            "cron": "0 9 * * *"}
    ctx = NodeContext(run_id="r", workflow_id=1, node_key="clock", attempt=1, trigger=tick)

    # expect the trigger node to output it
    assert ScheduleTrigger().execute(ctx, {"cron": "0 9 * * *"}) == tick
