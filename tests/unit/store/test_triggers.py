"""The trigger index, on SQLite and PostgreSQL: registrations are found by kind and key,
changes saved in this process are seen at once, changes made by another process within
the index's refresh time."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import delete, insert

from n8nclone.store.db import get_database
from n8nclone.store.triggers import REG, TriggerIndex
from n8nclone.store.workflows import WorkflowStore
from n8nclone.triggers.registration import Registration

SPEC = {"name": "orders", "nodes": [], "edges": []}


@pytest.fixture
def db(database_url):
    return get_database(database_url)


def hook(path: str) -> Registration:
    return Registration("trigger.webhook", f"POST {path}", exclusive=True, node_key="hook")


def test_registrations_are_found_by_kind_and_key(db):
    # given two workflows registering a webhook and an event trigger
    store = WorkflowStore(db)
    first = store.create(SPEC, {}, [hook("orders")])
    second = store.create(SPEC | {"name": "events"}, {},
                          [Registration("trigger.event", "order/*", node_key="start")])
    index = TriggerIndex(db)

    # expect each found by its kind and key, and not by another's
    (found,) = index.find("trigger.webhook", "POST orders")
    assert (found.workflow_id, found.node_key) == (first.id, "hook")
    assert [r.workflow_id for r in index.find("trigger.event")] == [second.id]
    assert index.find("trigger.webhook", "POST other") == []
    assert index.find("trigger.schedule") == []


def test_a_change_saved_in_this_process_is_seen_at_once(db):
    # given an index that has looked once and would not look again for a minute
    store = WorkflowStore(db)
    index = TriggerIndex(db, max_age=60)
    assert index.find("trigger.webhook", "POST orders") == []

    # when a workflow registers the webhook, then is deactivated
    record = store.create(SPEC, {}, [hook("orders")])
    assert [r.workflow_id for r in index.find("trigger.webhook", "POST orders")] == [record.id]
    store.set_active(record.id, False)

    # expect each change seen by the next lookup
    assert index.find("trigger.webhook", "POST orders") == []


def test_a_change_made_by_another_process_is_seen_within_the_refresh_time(db):
    # given an index that has looked
    record = WorkflowStore(db).create(SPEC, {}, [hook("orders")])
    index = TriggerIndex(db, max_age=0.3)
    assert len(index.find("trigger.webhook", "POST orders")) == 1

    # when another process removes the registration (written here without telling the index)
    with db.write() as conn:
        conn.execute(delete(REG).where(REG.c.workflow_id == record.id))
        conn.execute(insert(REG).values(workflow_id=record.id, version_id=record.version_id,
                                        node_key="hook", kind="trigger.webhook",
                                        key="POST moved", config={}))

    # expect the old answer until the refresh time has passed, then the new one
    assert len(index.find("trigger.webhook", "POST orders")) == 1
    time.sleep(0.35)
    assert index.find("trigger.webhook", "POST orders") == []
    assert len(index.find("trigger.webhook", "POST moved")) == 1
