"""Durable waits, events and flow control on the embedded default, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from itertools import pairwise

from sqlalchemy import insert

from n8nclone.engine.start import start_run
from n8nclone.store.clock import utcnow
from n8nclone.store.models import Wait
from n8nclone.store.waits import wait_values
from n8nclone.triggers.events import EventIn, ingest_events
from n8nclone.workflows import save_workflow, set_workflow_active
from tests.conftest import wait_for_status
from tests.utils.http_server import Reply
from tests.utils.runs import http_node, save_and_start, steps_by_key, ts, wait_until


def _line(name: str, *nodes: dict, trigger: dict | None = None, **settings) -> dict:
    nodes = [trigger or {"key": "start", "type": "trigger.manual"}, *nodes]
    edges = [{"from": a["key"], "to": b["key"]} for a, b in pairwise(nodes)]
    return {"name": name, "settings": settings, "nodes": nodes, "edges": edges}


def _wait_node(key: str = "approval", **params) -> dict:
    return {"key": key, "type": "wait.event",
            "params": {"event": "order/approved", "match_field": "data.order",
                       "match_value": "{{ trigger.order }}", "timeout": "30s", **params}}


def _status(services, run_id: str) -> str:
    return services.runs.run_status(run_id)


def _send(services, name: str, data: dict, event_id: str | None = None) -> list[str]:
    return ingest_events(services, [EventIn(name=name, data=data, id=event_id)])


# -- wait.sleep ---------------------------------------------------------------------------


def test_a_sleeping_run_is_released_and_finishes_when_its_time_comes(embedded, http_server):
    # given a run that sleeps one second, then calls the server
    workflow = _line("nap", {"key": "nap", "type": "wait.sleep", "params": {"duration": "1s"}},
                     http_node("after", http_server.url + "/after"))
    _, run_id = save_and_start(embedded, workflow)

    # expect it to be stored as sleeping, holding no lease (no worker) while it sleeps
    wait_until(lambda: _status(embedded, run_id) == "sleeping", "the run to sleep")
    assert embedded.executor.held_leases() == []
    assert http_server.hits["/after"] == 0

    # and to finish after its sleep, the sleep step ending no earlier than its target
    assert wait_for_status(embedded, run_id) == "succeeded"
    nap = steps_by_key(embedded.run_queries.get_run(run_id))["nap"]
    assert nap["status"] == "succeeded" and nap["attempts"] == 1
    assert ts(nap["ended_at"]) >= ts(nap["output"]["slept_until"])
    assert http_server.hits["/after"] == 1


def test_a_sleep_past_the_delayed_message_horizon_is_woken_by_the_timer(embedded, monkeypatch):
    # given no delayed messages at all: every wake is left to the sweeper's timer
    monkeypatch.setattr("n8nclone.engine.executor.DELAYED_MESSAGE_HORIZON", timedelta(0))
    sent = []
    send = embedded.dispatcher.send
    monkeypatch.setattr(embedded.dispatcher, "send",
                        lambda run_id, delay=0.0: (sent.append(delay), send(run_id, delay)))
    workflow = _line("long-nap", {"key": "nap", "type": "wait.sleep",
                                  "params": {"duration": "1s"}},
                     {"key": "done", "type": "data.set", "params": {"values": {"ok": True}}})

    # when a run sleeps
    _, run_id = save_and_start(embedded, workflow)

    # expect it to finish after its sleep, woken by a message the timer sent for its time
    assert wait_for_status(embedded, run_id) == "succeeded"
    nap = steps_by_key(embedded.run_queries.get_run(run_id))["nap"]
    assert ts(nap["ended_at"]) >= ts(nap["output"]["slept_until"])
    assert len(sent) == 2 and sent[1] <= 0.5  # the start, then the timer's (due within a tick)


# -- wait.event ---------------------------------------------------------------------------


def test_a_waiting_run_resumes_only_for_its_matching_event(embedded):
    # given a run of order 7 waiting for its approval
    workflow = _line("approve", _wait_node(),
                     {"key": "done", "type": "data.set",
                      "params": {"values": {"by": "{{ steps.approval.output.data.by }}"}}})
    _, run_id = save_and_start(embedded, workflow, {"order": 7})
    wait_until(lambda: _status(embedded, run_id) == "waiting", "the run to wait")

    # when the approval of another order arrives, then its own
    _send(embedded, "order/approved", {"order": 8, "by": "mallory"})
    _send(embedded, "order/rejected", {"order": 7})
    assert _status(embedded, run_id) == "waiting"
    _send(embedded, "order/approved", {"order": 7, "by": "ada"})

    # expect the run to go on with its event as the wait step's output
    assert wait_for_status(embedded, run_id) == "succeeded"
    run = embedded.run_queries.get_run(run_id)
    assert steps_by_key(run)["approval"]["output"]["data"] == {"order": 7, "by": "ada"}
    assert run["output"] == {"by": "ada"}


def test_a_wait_condition_filters_events(embedded):
    # given a wait that also needs the amount to be large
    workflow = _line("big-approval", _wait_node(**{"if": "event.data.amount > 100"}))
    _, run_id = save_and_start(embedded, workflow, {"order": 1})
    wait_until(lambda: _status(embedded, run_id) == "waiting", "the run to wait")

    # when a small approval and then a large one arrive
    _send(embedded, "order/approved", {"order": 1, "amount": 5})
    assert _status(embedded, run_id) == "waiting"
    _send(embedded, "order/approved", {"order": 1, "amount": 500})

    # expect only the large one to resume the run
    assert wait_for_status(embedded, run_id) == "succeeded"
    output = steps_by_key(embedded.run_queries.get_run(run_id))["approval"]["output"]
    assert output["data"]["amount"] == 500


def test_a_wait_that_times_out_outputs_null_and_goes_on(embedded):
    # given a wait of one second that nobody answers, then a branch on its result
    workflow = {
        "name": "timeout-branch",
        "nodes": [{"key": "start", "type": "trigger.manual"}, _wait_node(timeout="1s"),
                  {"key": "check", "type": "flow.if",
                   "params": {"condition": "{{ steps.approval.output is none }}"}},
                  {"key": "timed_out", "type": "data.set", "params": {"values": {"t": 1}}},
                  {"key": "answered", "type": "data.set", "params": {"values": {"t": 0}}}],
        "edges": [{"from": "start", "to": "approval"}, {"from": "approval", "to": "check"},
                  {"from": "check", "port": "true", "to": "timed_out"},
                  {"from": "check", "port": "false", "to": "answered"}]}
    _, run_id = save_and_start(embedded, workflow, {"order": 2})

    # expect the timeout branch, and a late event to change nothing
    assert wait_for_status(embedded, run_id) == "succeeded"
    _send(embedded, "order/approved", {"order": 2})
    steps = steps_by_key(embedded.run_queries.get_run(run_id))
    assert steps["approval"]["output"] is None
    assert steps["timed_out"]["status"] == "succeeded"
    assert steps["answered"]["status"] == "skipped"


def test_a_wait_can_fail_on_timeout(embedded):
    # given a wait that must fail when nobody answers
    _, run_id = save_and_start(embedded, _line("strict", _wait_node(timeout="1s",
                                                                    on_timeout="fail")),
                               {"order": 3})

    # expect the run to fail naming the step
    assert wait_for_status(embedded, run_id) == "failed"
    run = embedded.run_queries.get_run(run_id)
    assert run["error"]["node"] == "approval" and run["error"]["type"] == "Timeout"


# -- event triggers -----------------------------------------------------------------------


def test_one_event_starts_every_matching_active_workflow(embedded):
    # given workflows triggered by an exact name, a prefix, a filter, and an inactive one
    def triggered(name: str, event: str, condition: str | None = None, active: bool = True):
        params = {"event": event} | ({"if": condition} if condition else {})
        workflow = _line(name, {"key": "note", "type": "data.set",
                                "params": {"values": {"total": "{{ trigger.data.total }}"}}},
                         trigger={"key": "on", "type": "trigger.event", "params": params})
        workflow["active"] = active
        return save_workflow(embedded.workflows, embedded.registry, workflow)

    exact = triggered("exact", "order/paid")
    prefix = triggered("prefix", "order/*")
    large = triggered("large", "order/paid", "event.data.total > 100")
    other = triggered("other", "invoice/paid")
    inactive = triggered("inactive", "order/paid", active=False)

    # when a small order/paid event arrives
    _send(embedded, "order/paid", {"total": 10})

    # expect runs of the exact and prefix workflows only, with the event as their input
    def runs_of(record):
        return embedded.run_queries.list_runs(workflow_id=record.id)["items"]

    wait_until(lambda: len(runs_of(exact)) == 1 and len(runs_of(prefix)) == 1,
               "the matching workflows to start")
    assert runs_of(large) == [] and runs_of(other) == [] and runs_of(inactive) == []
    run = embedded.run_queries.get_run(runs_of(exact)[0]["id"])
    assert wait_for_status(embedded, run["id"]) == "succeeded"
    assert embedded.run_queries.get_run(run["id"])["output"] == {"total": 10}

    # and activating a workflow makes it listen
    set_workflow_active(embedded.workflows, embedded.registry, inactive.id, True)
    _send(embedded, "order/paid", {"total": 500})
    wait_until(lambda: len(runs_of(inactive)) == 1 and len(runs_of(large)) == 1,
               "the activated and the filtered workflows to start")


def test_an_event_id_seen_before_is_not_processed_again(embedded):
    # given a workflow started by an event
    record = save_workflow(embedded.workflows, embedded.registry, _line(
        "once", {"key": "note", "type": "data.set", "params": {"values": {"a": 1}}},
        trigger={"key": "on", "type": "trigger.event", "params": {"event": "user/signup"}}))

    # when the same event id is sent twice
    first = _send(embedded, "user/signup", {"user": 1}, event_id="signup-1")
    second = _send(embedded, "user/signup", {"user": 1}, event_id="signup-1")

    # expect one stored event and one run
    assert first == second
    wait_until(lambda: embedded.run_queries.list_runs(workflow_id=record.id)["items"],
               "the run to start")
    assert len(embedded.run_queries.list_runs(workflow_id=record.id)["items"]) == 1


def test_event_send_emits_events_that_start_other_workflows(embedded):
    # given a listener and a workflow that emits its event twice over a retried step
    listener = save_workflow(embedded.workflows, embedded.registry, _line(
        "listener", {"key": "note", "type": "data.set",
                     "params": {"values": {"who": "{{ trigger.data.who }}"}}},
        trigger={"key": "on", "type": "trigger.event", "params": {"event": "greet/sent"}}))
    _, run_id = save_and_start(embedded, _line(
        "emitter", {"key": "emit", "type": "event.send",
                    "params": {"events": [{"name": "greet/sent",
                                           "data": {"who": "{{ trigger.who }}"}}]}}),
        {"who": "ada"})

    # expect the emitter to record the event id and the listener to run once
    assert wait_for_status(embedded, run_id) == "succeeded"
    emitted = steps_by_key(embedded.run_queries.get_run(run_id))["emit"]["output"]["ids"]
    assert len(emitted) == 1
    runs = wait_until(lambda: embedded.run_queries.list_runs(workflow_id=listener.id)["items"],
                      "the listener to start")
    assert wait_for_status(embedded, runs[0]["id"]) == "succeeded"
    assert embedded.run_queries.get_run(runs[0]["id"])["output"] == {"who": "ada"}

    # and emitting again under the same run and node (a retried step) does not repeat it
    again = embedded.executor.event_sink([{"name": "greet/sent", "data": {"who": "ada"},
                                           "id": f"{run_id}:emit:0"}])
    assert again == emitted
    assert len(embedded.run_queries.list_runs(workflow_id=listener.id)["items"]) == 1


# -- flow control -------------------------------------------------------------------------


def test_a_concurrency_key_runs_one_run_per_user_at_a_time_in_order(embedded, http_server):
    # given one run at a time per user, each run holding its slot for a slow call
    http_server.script("/slow", Reply(delay=0.4))
    workflow = _line("per-user", http_node("call", http_server.url + "/slow"),
                     concurrency={"limit": 1, "key": "{{ trigger.user }}"})
    record = save_workflow(embedded.workflows, embedded.registry, workflow)
    def start(user: str) -> str:
        return start_run(embedded.runs, embedded.dispatcher, workflow_id=record.id,
                         version_id=record.version_id, plan_settings=record.plan["settings"],
                         input={"user": user})

    # when three runs for user a and one for user b start at once
    a_runs = [start("a") for _ in range(3)]
    b_run = start("b")

    # expect all to succeed; a's calls never overlap and run in trigger order; b ran alongside
    for run_id in [*a_runs, b_run]:
        assert wait_for_status(embedded, run_id) == "succeeded"

    def interval(run_id: str):
        step = steps_by_key(embedded.run_queries.get_run(run_id))["call"]
        return ts(step["started_at"]), ts(step["ended_at"])

    a_intervals = [interval(r) for r in a_runs]
    for (_, end), (start_next, _) in pairwise(a_intervals):
        assert start_next >= end, "two runs of one concurrency key overlapped"
    b_start, b_end = interval(b_run)
    assert b_start < a_intervals[-1][0], "user b waited for user a's slot"


def test_an_idempotency_key_returns_the_existing_run(embedded):
    # given a workflow keyed by the order id
    workflow = _line("idem", {"key": "note", "type": "data.set", "params": {"values": {"a": 1}}},
                     idempotency_key="{{ trigger.order }}")
    record, first = save_and_start(embedded, workflow, {"order": 1})
    def start(order: int) -> str:
        return start_run(embedded.runs, embedded.dispatcher, workflow_id=record.id,
                         version_id=record.version_id, plan_settings=record.plan["settings"],
                         input={"order": order})

    # expect a duplicate trigger to get the same run, another order a new one
    assert start(1) == first
    assert start(2) != first
    assert len(embedded.run_queries.list_runs(workflow_id=record.id)["items"]) == 2


def test_cancel_on_cancels_a_waiting_run_of_the_same_order(embedded):
    # given runs of orders 5 and 6 waiting, cancelled by order/cancelled for their order
    workflow = _line("cancellable", _wait_node(),
                     cancel_on=[{"event": "order/cancelled", "match": "data.order",
                                 "value": "{{ trigger.order }}"}])
    record, five = save_and_start(embedded, workflow, {"order": 5})
    six = start_run(embedded.runs, embedded.dispatcher, workflow_id=record.id,
                    version_id=record.version_id, plan_settings=record.plan["settings"],
                    input={"order": 6})
    for run_id in (five, six):
        wait_until(lambda r=run_id: _status(embedded, r) == "waiting", "the runs to wait")

    # when order 5 is cancelled
    _send(embedded, "order/cancelled", {"order": 5})

    # expect run five cancelled (its wait step too), run six still waiting
    assert wait_for_status(embedded, five, ("cancelled",)) == "cancelled"
    assert steps_by_key(embedded.run_queries.get_run(five))["approval"]["status"] == "cancelled"
    assert _status(embedded, six) == "waiting"


class _LostMessages:
    """A dispatcher whose messages never arrive (a crash right after the event was stored)."""

    def send(self, run_id: str, delay: float = 0.0) -> None:
        pass


def test_a_waiter_woken_by_an_event_whose_message_is_lost_is_resumed_by_the_sweep(embedded):
    # given a run waiting for its approval for a long time
    _, run_id = save_and_start(embedded, _line("lost-wake", _wait_node(timeout="1h")),
                               {"order": 11})
    wait_until(lambda: _status(embedded, run_id) == "waiting", "the run to wait")

    # when its event is stored by a process whose message to the workers is lost
    ingest_events(dataclasses.replace(embedded, dispatcher=_LostMessages()),
                  [EventIn(name="order/approved", data={"order": 11})])

    # expect the sweep to resume it long before its timeout
    assert wait_for_status(embedded, run_id, timeout=15) == "succeeded"


def test_an_event_after_a_wait_timed_out_does_not_complete_it(embedded):
    # given a wait whose timeout passed before any worker looked at it again
    record, run_id = save_and_start(embedded, _line("late", {"key": "note", "type": "data.set",
                                                             "params": {"values": {"a": 1}}}))
    wait_for_status(embedded, run_id)
    with embedded.db.write() as conn:
        conn.execute(insert(Wait.__table__).values(**wait_values(
            run_id=run_id, node_key="note", kind="step", event="order/approved",
            match_field="data.order", match_value=12, condition=None,
            expires_at=utcnow() - timedelta(seconds=1))))
    event = {"id": "e", "name": "order/approved", "data": {"order": 12}, "ts": None}

    # expect the expired wait not to be a candidate, nor resolvable
    assert embedded.executor.waits.candidates(event) == []
    wait_id = embedded.executor.waits.of_run(run_id)["note"].id
    assert embedded.executor.waits.resolve(wait_id, "e") is False
