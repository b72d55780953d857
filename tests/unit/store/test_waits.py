"""Which open waits an event may satisfy, on SQLite and PostgreSQL: matched by any of the
fields its event's waits name (found through the index, one distinct field at a time),
plus the waits that match on no field."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from n8nclone.store.db import get_database
from n8nclone.store.runs import RunStore
from n8nclone.store.waits import WAIT, WaitStore, wait_values
from n8nclone.store.workflows import WorkflowStore


@pytest.fixture
def store(database_url) -> WaitStore:
    return WaitStore(get_database(database_url))


def add_waits(store: WaitStore, *waits: tuple[str, str | None, object]) -> dict[str, str]:
    """One run per wait (event name, match field, match value); returns run id by label."""
    record = WorkflowStore(store.db).create({"name": "wf", "nodes": [], "edges": []}, {})
    runs = RunStore(store.db)
    run_ids = {f"{event} {field} {value}": runs.create_run(
        workflow_id=record.id, version_id=record.version_id, input=None,
        trigger_type="manual")[0] for event, field, value in waits}
    with store.db.write() as conn:
        conn.execute(insert(WAIT), [wait_values(
            run_id=run_ids[f"{event} {field} {value}"], node_key="w", kind="step", event=event,
            match_field=field, match_value=value, condition=None, expires_at=None)
            for event, field, value in waits])
    return run_ids


def test_an_event_finds_the_waits_of_each_field_it_matches_and_the_unmatched(store):
    # given waits on two fields of order/paid, one on no field, and one of another event
    runs = add_waits(store, *[("order/paid", "data.order", n) for n in range(20)],
                     ("order/paid", "data.user", "ada"), ("order/paid", None, None),
                     ("order/shipped", "data.order", 3))

    # when an event of order 3 paid by ada comes
    found = store.candidates({"name": "order/paid", "data": {"order": 3, "user": "ada"}})

    # expect the waits for order 3, for ada and the one without a field; nothing else
    assert {w.run_id for w in found} == {runs["order/paid data.order 3"],
                                         runs["order/paid data.user ada"],
                                         runs["order/paid None None"]}


def test_an_event_nobody_waits_for_finds_nothing(store):
    add_waits(store, ("order/paid", "data.order", 1))
    assert store.candidates({"name": "order/refunded", "data": {"order": 1}}) == []
    assert store.candidates({"name": "order/paid", "data": {"order": 2}}) == []
