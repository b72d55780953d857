"""The event API over real HTTP (uvicorn on 127.0.0.1) bound to embedded services, on SQLite
and PostgreSQL: `POST /api/events`, Inngest's `POST /e/<event key>`, idempotent ids, the
event history, and bad input (always a readable 4xx, never a 500)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import httpx
import pytest

from n8nclone.services import Services
from n8nclone.store.event_keys import EventKeyStore
from n8nclone.store.event_queries import EventQueries
from tests.utils.runs import wait_until


@pytest.fixture
def event_key(embedded: Services) -> str:
    _, key = EventKeyStore(embedded.db).create("test")
    return key


def send(api: httpx.Client, body, status: int = 201) -> list[str]:
    response = api.post("/api/events", json=body)
    assert response.status_code == status, response.text
    ids = response.json()["ids"]
    assert all(isinstance(i, str) and i for i in ids)
    return ids


def read(api: httpx.Client, event_id: str) -> dict:
    response = api.get(f"/api/events/{event_id}")
    assert response.status_code == 200, response.text
    return response.json()


def client_error(response: httpx.Response, status: int) -> str:
    """Assert a 4xx JSON answer with a readable message; return the message."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail and "Traceback" not in response.text
    return detail


# -- sending ------------------------------------------------------------------------------


def test_one_event_is_stored_and_its_id_returned(api):
    # when one event is posted
    (event_id,) = send(api, {"name": "order/created", "data": {"id": 7, "total": 250}})

    # expect it stored as sent, with server times
    event = read(api, event_id)
    assert event["id"] == event_id and event["name"] == "order/created"
    assert event["data"] == {"id": 7, "total": 250} and event["external_id"] is None
    assert datetime.fromisoformat(event["received_at"]).tzinfo is not None
    assert datetime.fromisoformat(event["ts"]).tzinfo is not None


def test_a_batch_returns_one_id_per_event_in_order(api):
    # when three events are posted as a list
    ids = send(api, [{"name": "a", "data": {"n": 1}}, {"name": "b"}, {"name": "a", "data": 3}])

    # expect three distinct ids, each naming the event at its position
    assert len(set(ids)) == 3
    assert [(read(api, i)["name"], read(api, i)["data"]) for i in ids] == [
        ("a", {"n": 1}), ("b", {}), ("a", 3)]


def test_data_defaults_to_an_object_and_may_be_any_json(api):
    ids = send(api, [{"name": "x"}, {"name": "x", "data": None}, {"name": "x", "data": [1, "2"]},
                     {"name": "x", "data": "text"}, {"name": "x", "data": {"deep": {"ü": [None]}}}])
    assert [read(api, i)["data"] for i in ids] == [{}, {}, [1, "2"], "text",
                                                   {"deep": {"ü": [None]}}]


def test_data_text_round_trips_including_nul_and_astral_characters(api):
    data = {"nul": "a\u0000b", "emoji": "\U0001f600", "keys": {"\u0000": 1}, "big": 10**30}
    (event_id,) = send(api, {"name": "text", "data": data})
    assert read(api, event_id)["data"] == data


def test_ts_is_an_iso_time_or_epoch_milliseconds(api):
    # when events carry their time as ISO text (with and without offset) and epoch ms
    ids = send(api, [{"name": "t", "ts": "2026-01-02T03:04:05+02:00"},
                     {"name": "t", "ts": "2026-01-02T03:04:05"},
                     {"name": "t", "ts": "2026-01-02T03:04:05Z"},
                     {"name": "t", "ts": 1767323045000},
                     {"name": "t", "ts": 1767323045123.0}])

    # expect each stored as that instant (UTC when no offset is given)
    times = [datetime.fromisoformat(read(api, i)["ts"]) for i in ids]
    assert times == [datetime(2026, 1, 2, 1, 4, 5, tzinfo=UTC),
                     datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                     datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                     datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                     datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)]


def test_a_repeated_id_is_not_processed_again(api, embedded):
    # given an event sent with an id
    (first,) = send(api, {"name": "order/paid", "data": {"n": 1}, "id": "pay-7"})

    # when the same id is sent again, alone and inside a batch
    (again,) = send(api, {"name": "order/paid", "data": {"n": 2}, "id": "pay-7"})
    batch = send(api, [{"name": "order/paid", "id": "pay-8"},
                       {"name": "order/paid", "data": {"n": 3}, "id": "pay-7"}])

    # expect the first event's id back each time, and one stored event per id
    assert again == first and batch[1] == first and batch[0] != first
    assert read(api, first)["data"] == {"n": 1} and read(api, first)["external_id"] == "pay-7"
    assert EventQueries(embedded.db).count("order/paid") == 2


# -- Inngest's event API ------------------------------------------------------------------


def test_inngest_event_api_with_a_valid_key(api, event_key):
    # when an Inngest client sends a batch the way its SDK does (id "", ts 0, user, v)
    body = [{"name": "app/user.signup", "data": {"email": "a@example.test"}, "id": "",
             "ts": 0, "user": {}, "v": "2026-01-01.1"},
            {"name": "app/user.signup", "data": {"email": "b@example.test"}, "id": "sig-b",
             "ts": 1767323045000}]
    response = api.post(f"/e/{event_key}", json=body)

    # expect Inngest's answer: 200 with the ids and the status in the body
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"ids", "status"} and answer["status"] == 200
    assert len(answer["ids"]) == 2
    first, second = (read(api, i) for i in answer["ids"])
    assert first["data"] == {"email": "a@example.test"} and first["external_id"] is None
    assert second["external_id"] == "sig-b"
    # and a single event works the same
    single = api.post(f"/e/{event_key}", json={"name": "app/ping"})
    assert single.status_code == 200 and len(single.json()["ids"]) == 1


@pytest.mark.parametrize("path", ["/e/not-a-key", "/e/", "/e"])
def test_inngest_event_api_without_a_valid_key_is_401(api, event_key, embedded, path):
    response = api.post(path, json={"name": "app/ping"})
    message = client_error(response, 401)
    assert "event key" in message
    assert response.json()["status"] == 401 and response.json()["error"] == message
    assert EventQueries(embedded.db).count() == 0


def test_a_bad_body_with_a_valid_key_gets_an_inngest_shaped_4xx(api, event_key):
    response = api.post(f"/e/{event_key}", content=b"{nope")
    assert client_error(response, 400).startswith("the body is not valid JSON")
    assert response.json()["status"] == 400


def test_api_events_takes_an_api_key_or_an_event_key_and_nothing_else(api, event_key):
    # expect the API key (the fixture's) and a valid event key to be accepted; a wrong key,
    # or none, refused
    assert api.post("/api/events", json={"name": "a"}).status_code == 201
    good = api.post("/api/events", json={"name": "a"},
                    headers={"Authorization": f"Bearer {event_key}"})
    assert good.status_code == 201, good.text
    bad = api.post("/api/events", json={"name": "a"},
                   headers={"Authorization": "Bearer wrong"})
    assert "not valid" in client_error(bad, 401)
    anonymous = httpx.post(api.base_url.join("/api/events"), json={"name": "a"}, timeout=30)
    assert "authentication required" in client_error(anonymous, 401)


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("body, status, fragment", [
    (b"", 400, "the body is empty"),
    (b"   ", 400, "the body is empty"),
    (b'{"name": "a",', 400, "not valid JSON"),
    (b'{"name": "a", "data": NaN}', 400, "NaN is not JSON"),
    (b'{"name": "a", "data": 1e999}', 400, "too large"),
    (b"\xff\xfe\x00garbage", 400, "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
    (b'"order/created"', 422, "must be an event"),
    (b"42", 422, "must be an event"),
    (b"{}", 422, "name is required"),
    (b'{"data": {}}', 422, "name is required"),
    (b'{"name": ""}', 422, "name must not be empty"),
    (b'{"name": "  "}', 422, "name must not be empty"),
    (b'{"name": 7}', 422, "name must be a string"),
    (b'{"name": null}', 422, "name must be a string"),
    (b'{"name": "a\\u0000b"}', 422, "control characters"),
    (b'{"name": "\\ud800"}', 422, "not valid Unicode"),
    (json.dumps({"name": "x" * 201}).encode(), 422, "longer than 200"),
    (b'{"name": "a", "dat": {}}', 422, "unknown field 'dat'"),
    (b'{"name": "a", "id": 7}', 422, "id must be a string"),
    (json.dumps({"name": "a", "id": "i" * 257}).encode(), 422, "id is longer"),
    (b'{"name": "a", "ts": "yesterday"}', 422, "not an ISO 8601 time"),
    (b'{"name": "a", "ts": true}', 422, "ts must be"),
    (b'{"name": "a", "ts": 1e300}', 422, "ts is out of range"),
    (b'{"name": "a", "ts": {}}', 422, "ts must be"),
    (b'{"name": "a", "ts": "9999-12-31T23:00:00-14:00"}', 422, "ts is out of range"),
    (b'{"name": "a", "data": {"text": "\\ud800"}}', 422, "not valid Unicode"),
    (b'[{"name": "ok"}, 3, {"name": ""}]', 422, "event 1: an event must be an object"),
    (json.dumps([{"name": "a"}] * 1001).encode(), 422, "at most 1000 events"),
])
def test_bad_bodies_get_a_readable_4xx_and_store_nothing(api, embedded, body, status,
                                                         fragment):
    response = api.post("/api/events", content=body,
                        headers={"content-type": "application/json"})
    assert fragment in client_error(response, status)
    assert EventQueries(embedded.db).count() == 0


def test_every_problem_of_a_batch_is_named_by_position(api):
    response = api.post("/api/events", json=[{"name": "ok"}, {"name": ""}, {"nme": "x"}])
    message = client_error(response, 422)
    assert "event 1: name must not be empty" in message
    assert "event 2: unknown field 'nme'" in message


def test_a_body_over_1_mib_is_413(api, embedded):
    big = json.dumps({"name": "big", "data": "x" * (1024 * 1024)}).encode()
    assert "larger than" in client_error(api.post("/api/events", content=big), 413)

    # also when sent without a length (chunked)
    def chunks():
        yield big[:1000]
        yield big[1000:]
    assert "larger than" in client_error(api.post("/api/events", content=chunks()), 413)
    assert EventQueries(embedded.db).count() == 0


def test_a_body_just_under_1_mib_is_taken(api):
    data = "x" * (1024 * 1024 - 100)
    (event_id,) = send(api, {"name": "big", "data": data})
    assert read(api, event_id)["data"] == data


def test_any_json_content_type_is_accepted(api):
    response = api.post("/api/events", content=b'{"name": "form"}',
                        headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 201, response.text


# -- runs ---------------------------------------------------------------------------------


def poll_run(api: httpx.Client, run_id: str, statuses: tuple[str, ...]) -> dict:
    def current():
        run = api.get(f"/api/runs/{run_id}").json()
        return run if run["status"] in statuses else None
    return wait_until(current, f"run {run_id} to be {'/'.join(statuses)}")


def test_an_event_starts_matching_workflows_and_its_page_lists_the_runs(api):
    # given an active workflow triggered by order/* events, and one by other events
    workflow = {"name": "on-order", "nodes": [
        {"key": "on", "type": "trigger.event", "params": {"event": "order/*"}},
        {"key": "note", "type": "data.set",
         "params": {"values": {"total": "{{ trigger.data.total }}"}}}],
        "edges": [{"from": "on", "to": "note"}]}
    assert api.post("/api/workflows", json=workflow).status_code == 201
    other = workflow | {"name": "on-user",
                        "nodes": [workflow["nodes"][0] | {"params": {"event": "user/*"}},
                                  workflow["nodes"][1]]}
    assert api.post("/api/workflows", json=other).status_code == 201

    # when a matching event is sent with an id
    (event_id,) = send(api, {"name": "order/created", "data": {"total": 250}, "id": "o-1"})

    # expect one run of the matching workflow, which the event's page lists
    event = wait_until(lambda: (e := read(api, event_id))["runs"]["started"] and e,
                       "the event's run")
    (link,) = event["runs"]["started"]
    assert link["workflow"] == "on-order"
    run = poll_run(api, link["id"], ("succeeded", "failed"))
    assert run["status"] == "succeeded" and run["output"] == {"total": 250}
    assert run["trigger_type"] == "event" and run["input"]["id"] == "o-1"
    assert event["runs"]["resumed"] == event["runs"]["cancelled"] == []
    # and sending the same id again starts nothing more
    assert send(api, {"name": "order/created", "data": {"total": 1}, "id": "o-1"}) == [event_id]
    runs = api.get("/api/runs", params={"workflow": "on-order"}).json()["items"]
    assert [r["id"] for r in runs] == [link["id"]]


def test_an_event_resumes_a_waiting_run_and_its_page_lists_it(api):
    # given a run waiting for the approval of its order
    workflow = {"name": "approve", "nodes": [
        {"key": "start", "type": "trigger.manual"},
        {"key": "wait", "type": "wait.event",
         "params": {"event": "approval", "match_field": "data.order",
                    "match_value": "{{ trigger.order }}", "timeout": "1h"}},
        {"key": "done", "type": "data.set", "params": {"values": {"by": "{{ input.data.by }}"}}}],
        "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "done"}]}
    assert api.post("/api/workflows", json=workflow).status_code == 201
    started = api.post("/api/workflows/approve/runs", json={"data": {"order": 7}})
    run_id = started.json()["id"]
    poll_run(api, run_id, ("waiting",))

    # when an approval of another order, then of this one, is sent
    send(api, {"name": "approval", "data": {"order": 8, "by": "Bob"}})
    (event_id,) = send(api, {"name": "approval", "data": {"order": 7, "by": "Ada"}})

    # expect the run to finish with this event, and the event's page to list it as resumed
    run = poll_run(api, run_id, ("succeeded", "failed"))
    assert run["status"] == "succeeded" and run["output"] == {"by": "Ada"}
    links = read(api, event_id)["runs"]
    assert [r["id"] for r in links["resumed"]] == [run_id] and links["started"] == []


# -- history ------------------------------------------------------------------------------


def test_events_are_listed_newest_first_and_paged_by_cursor(api):
    # given five events of two names
    ids = [send(api, {"name": "even" if n % 2 == 0 else "odd", "data": {"n": n}})[0]
           for n in range(5)]

    # when listed two at a time
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.get("/api/events", params=params).json()
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    # expect every event once, newest first, without data
    assert [e["id"] for e in seen] == ids[::-1]
    assert all("data" not in e for e in seen)
    # and a name filter
    evens = api.get("/api/events", params={"name": "even"}).json()["items"]
    assert [e["id"] for e in evens] == [ids[4], ids[2], ids[0]]


def test_event_history_bad_input(api):
    client_error(api.get("/api/events", params={"cursor": "not-a-cursor"}), 400)
    client_error(api.get("/api/events", params={"limit": 0}), 422)
    client_error(api.get("/api/events/no-such-event"), 404)
    assert api.get("/api/events").json() == {"items": [], "next_cursor": None}


def test_the_event_api_is_documented(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert "post" in paths["/api/events"] and "get" in paths["/api/events"]
    assert "post" in paths["/e/{key}"] and "get" in paths["/api/events/{event_id}"]


def test_event_keys_in_paths_are_masked_in_access_logs():
    # given the access log record uvicorn writes for a call to /e/<key>
    from n8nclone.api.events import MaskEventKeys

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "POST", "/e/s3cr3t-KEY_x?x=1", "1.1", 200),
                               None)

    # expect the key replaced, the rest kept
    assert MaskEventKeys().filter(record) is True
    assert record.getMessage() == '127.0.0.1:5000 - "POST /e/***?x=1 HTTP/1.1" 200'
    assert "s3cr3t" not in record.getMessage()
    assert any(isinstance(f, MaskEventKeys) for f in logging.getLogger("uvicorn.access").filters)
