"""The JSON API over real HTTP (uvicorn on 127.0.0.1) bound to embedded services, on SQLite
and PostgreSQL: workflows CRUD, runs, history pagination, cancel, docs, and bad input
(always a readable 4xx, never a 500)."""

from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.utils.http_server import Reply
from tests.utils.runs import http_node, steps_by_key, wait_until

TERMINAL = ("succeeded", "failed", "cancelled")


def hello(name: str = "hello", greeting: str = "hello") -> dict:
    return {
        "name": name,
        "nodes": [
            {"key": "start", "type": "trigger.manual"},
            {"key": "greet", "type": "data.set",
             "params": {"values": {greeting: "{{ trigger.name }}"}}},
        ],
        "edges": [{"from": "start", "to": "greet"}],
    }


def as_saved(workflow: dict) -> dict:
    """The workflow file as the API gives it back (defaults filled in)."""
    nodes = [{"params": {}, "position": [0.0, 0.0]} | n for n in workflow["nodes"]]
    edges = [{"port": "main"} | e for e in workflow["edges"]]
    return {"active": True, "settings": {}} | workflow | {"nodes": nodes, "edges": edges}



def create(api: httpx.Client, workflow: dict) -> dict:
    response = api.post("/api/workflows", json=workflow)
    assert response.status_code == 201, response.text
    return response.json()


def start(api: httpx.Client, ref: str, data=None) -> str:
    response = api.post(f"/api/workflows/{ref}/runs", json={"data": data})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def poll(api: httpx.Client, run_id: str, statuses=TERMINAL) -> dict:
    def current():
        run = api.get(f"/api/runs/{run_id}").json()
        return run if run["status"] in statuses else None
    return wait_until(current, f"run {run_id} to be {'/'.join(statuses)}")


def assert_client_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"], body
    assert "Traceback" not in response.text
    return body


# -- workflows ----------------------------------------------------------------------------


def test_create_then_read_by_id_and_by_name(api):
    # given a workflow file
    workflow = hello()

    # when it is posted
    created = create(api, workflow)

    # expect version 1 holding the file as saved, readable by id and by name
    assert created["name"] == "hello" and created["version"] == 1
    assert created["trigger"] == "trigger.manual"
    assert created["workflow"] == as_saved(workflow)
    by_id = api.get(f"/api/workflows/{created['id']}")
    by_name = api.get("/api/workflows/hello")
    assert by_id.status_code == by_name.status_code == 200
    assert by_id.json() == by_name.json() == created


def test_update_saves_version_2_and_list_shows_it(api):
    # given a saved workflow and a second one
    first = create(api, hello())
    create(api, hello("another"))

    # when the first is updated with a changed file
    changed = hello(greeting="bonjour")
    response = api.put(f"/api/workflows/{first['id']}", json=changed)

    # expect version 2 with the new file, under the same id
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["id"] == first["id"] and updated["version"] == 2
    assert updated["version_id"] != first["version_id"]
    assert updated["workflow"] == as_saved(changed)
    assert api.get("/api/workflows/hello").json()["version"] == 2
    # and the list shows both workflows, with their current versions and no file bodies
    items = api.get("/api/workflows").json()["items"]
    assert {(w["name"], w["version"]) for w in items} == {("hello", 2), ("another", 1)}
    assert all("workflow" not in w for w in items)


def test_validate_reports_problems_without_saving(api):
    # given a workflow with a cycle and an unknown node type
    broken = hello("broken")
    broken["nodes"] += [{"key": "a", "type": "data.set", "params": {"values": {}}},
                        {"key": "b", "type": "no.such.type"}]
    broken["edges"] += [{"from": "greet", "to": "a"}, {"from": "a", "to": "b"},
                        {"from": "b", "to": "a"}]

    # when it is validated
    response = api.post("/api/workflows/validate", json=broken)

    # expect every problem, each naming its node; nothing saved
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    messages = " | ".join(p["message"] for p in body["problems"])
    assert "cycle" in messages and "no.such.type" in messages
    assert {p.get("node") for p in body["problems"]} >= {"a", "b"}
    assert api.get("/api/workflows/broken").status_code == 404
    # and a good file is valid
    assert api.post("/api/workflows/validate", json=hello()).json() == {"valid": True,
                                                                      "problems": []}


def test_delete_removes_the_workflow_and_its_runs(api):
    # given a workflow with a finished run
    create(api, hello())
    run_id = start(api, "hello", {"name": "Ada"})
    poll(api, run_id)

    # when it is deleted
    response = api.delete("/api/workflows/hello")

    # expect 204, then 404 for the workflow and its run
    assert response.status_code == 204 and response.content == b""
    assert_client_error(api.get("/api/workflows/hello"), 404)
    assert_client_error(api.get(f"/api/runs/{run_id}"), 404)
    assert_client_error(api.delete("/api/workflows/hello"), 404)


# -- runs ---------------------------------------------------------------------------------


def test_a_run_started_over_http_succeeds_with_its_steps_and_attempts(api):
    # given a saved workflow
    create(api, hello())

    # when a run is started with input
    response = api.post("/api/workflows/hello/runs", json={"data": {"name": "Ada"}})

    # expect 201 with the run's id, then (polled) a succeeded run with every step
    assert response.status_code == 201, response.text
    started = response.json()
    assert started["status"] == "queued" and started["url"] == f"/api/runs/{started['id']}"
    run = poll(api, started["id"])
    assert run["status"] == "succeeded" and run["workflow"] == "hello"
    assert run["input"] == {"name": "Ada"} and run["output"] == {"hello": "Ada"}
    assert run["trigger_type"] == "api"
    assert [s["key"] for s in run["steps"]] == ["start", "greet"]
    for step in run["steps"]:
        assert step["status"] == "succeeded" and step["attempts"] == 1
        assert [a["status"] for a in step["attempt_history"]] == ["succeeded"]
    assert steps_by_key(run)["greet"]["output"] == {"hello": "Ada"}


def test_run_list_filters_by_workflow_and_status_and_pages_newest_first(api):
    # given 7 succeeded and 1 failed run of one workflow, and a run of another
    workflow = hello("paged")
    workflow["nodes"][1]["params"]["values"] = {"n": "{{ trigger.n }}"}
    create(api, workflow)
    create(api, hello("other"))
    succeeded = []
    for n in range(7):
        succeeded.append(start(api, "paged", {"n": n}))
        poll(api, succeeded[-1])
    failed = start(api, "paged", {})  # trigger.n is undefined: the step fails
    other = start(api, "other", {"name": "x"})
    assert poll(api, failed)["status"] == "failed"
    assert poll(api, other)["status"] == "succeeded"

    # when the succeeded runs of the workflow are listed 3 at a time, following next_cursor
    pages, cursor = [], None
    while True:
        params = {"workflow": "paged", "status": "succeeded", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        response = api.get("/api/runs", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10, "pagination does not end"

    # expect pages of 3, 3, 1 covering exactly those runs, newest first, no duplicates
    assert [len(p) for p in pages] == [3, 3, 1]
    listed = [r["id"] for p in pages for r in p]
    assert listed == list(reversed(succeeded))
    assert all(r["status"] == "succeeded" and r["workflow"] == "paged" for p in pages for r in p)
    # and the status filter finds the failed one on its own
    failed_page = api.get("/api/runs", params={"workflow": "paged", "status": "failed"}).json()
    assert [r["id"] for r in failed_page["items"]] == [failed]
    assert failed_page["next_cursor"] is None
    # and with no filter every run is listed
    assert len(api.get("/api/runs").json()["items"]) == 9


def test_cancel_a_run_waiting_to_retry(api, http_server):
    # given a run whose HTTP step waits an hour to retry
    http_server.script("/later", Reply(503, headers={"retry-after": "3600"}))
    create(api, {"name": "waiting", "nodes": [{"key": "start", "type": "trigger.manual"},
                                              http_node("fetch", http_server.url + "/later")],
                 "edges": [{"from": "start", "to": "fetch"}]})
    run_id = start(api, "waiting")
    poll(api, run_id, ("retrying",))

    # when it is cancelled over HTTP
    response = api.post(f"/api/runs/{run_id}/cancel")

    # expect the run and its step cancelled
    assert response.status_code == 200, response.text
    assert response.json() == {"id": run_id, "status": "cancelled"}
    run = api.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "cancelled"
    assert steps_by_key(run)["fetch"]["status"] == "cancelled"
    assert api.get("/api/runs", params={"status": "cancelled"}).json()["items"][0]["id"] == run_id


# -- docs and catalogue -------------------------------------------------------------------


def test_docs_openapi_and_node_types_are_served(api):
    docs = api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = api.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/workflows", "/api/workflows/{ref}", "/api/workflows/{ref}/runs",
                 "/api/runs", "/api/runs/{run_id}", "/api/runs/{run_id}/cancel",
                 "/api/node-types"):
        assert path in paths, path

    # the catalogue lists every type with the parameter schema the editor renders
    response = api.get("/api/node-types")
    assert response.status_code == 200
    types = {t["type"]: t for t in response.json()["items"]}
    assert {"trigger.manual", "data.set", "flow.if", "flow.merge", "http.request"} <= set(types)
    http = {p["name"]: p for p in types["http.request"]["params"]}
    assert http["url"]["required"] is True and http["url"]["type"] == "string"
    assert http["method"]["type"] == "options" and "POST" in http["method"]["options"]
    assert http["json"]["show_if"] == {"body_type": ["json"]}
    assert types["flow.if"]["outputs"] == ["true", "false"]
    assert types["trigger.manual"]["is_trigger"] is True


# -- bad input ----------------------------------------------------------------------------


def test_a_malformed_json_body_is_a_readable_422(api):
    # given a saved workflow (so the only problem is the body)
    create(api, hello())

    for method, path in [("POST", "/api/workflows"), ("PUT", "/api/workflows/hello"),
                         ("POST", "/api/workflows/hello/runs")]:
        # when the body is not valid JSON
        response = api.request(method, path, content=b'{"name": "oops", ',
                               headers={"content-type": "application/json"})

        # expect 422 saying so
        body = assert_client_error(response, 422)
        assert "not valid JSON" in body["detail"], (method, path)

    # and JSON that is not an object is no workflow either
    assert_client_error(api.post("/api/workflows", json=[1, 2, 3]), 422)
    assert api.get("/api/workflows/hello").json()["version"] == 1


def test_a_cycle_or_an_unknown_type_is_a_422_naming_the_nodes(api):
    # given a workflow whose nodes a -> b -> a form a cycle
    cyclic = hello("cyclic")
    cyclic["nodes"] += [{"key": "a", "type": "data.set", "params": {"values": {}}},
                        {"key": "b", "type": "data.set", "params": {"values": {}}}]
    cyclic["edges"] += [{"from": "greet", "to": "a"}, {"from": "a", "to": "b"},
                        {"from": "b", "to": "a"}]
    # and one with a misspelt node type
    misspelt = hello("misspelt")
    misspelt["nodes"][1]["type"] = "data.sett"

    # when they are posted
    cycle_body = assert_client_error(api.post("/api/workflows", json=cyclic), 422)
    type_body = assert_client_error(api.post("/api/workflows", json=misspelt), 422)

    # expect problems that name the nodes, and nothing saved
    cycle = [p for p in cycle_body["problems"] if "cycle" in p["message"]]
    assert cycle and "a -> b" in cycle[0]["message"] and cycle[0]["node"] in ("a", "b")
    assert type_body["problems"][0]["node"] == "greet"
    assert "data.sett" in type_body["problems"][0]["message"]
    assert "data.sett" in type_body["detail"]
    assert api.get("/api/workflows").json()["items"] == []


def test_a_duplicate_name_is_a_409(api):
    # given a workflow named hello, and another one
    create(api, hello())
    other = create(api, hello("other"))

    # when another workflow is created, or one renamed, with that name
    created = api.post("/api/workflows", json=hello())
    renamed = api.put(f"/api/workflows/{other['id']}", json=hello())

    # expect 409, and nothing changed
    assert "hello" in assert_client_error(created, 409)["detail"]
    assert_client_error(renamed, 409)
    assert api.get(f"/api/workflows/{other['id']}").json()["name"] == "other"
    assert len(api.get("/api/workflows").json()["items"]) == 2


def test_creating_one_name_at_the_same_time_gives_one_201_and_409s(api):
    # given several clients racing to create a workflow with the same name
    barrier = threading.Barrier(6)

    def racer(_):
        with httpx.Client(base_url=str(api.base_url), timeout=30, auth=api.auth) as client:
            barrier.wait()
            return client.post("/api/workflows", json=hello("raced"))

    # when they all post at once
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(racer, range(6)))

    # expect exactly one created and the others told the name is taken (never a 500)
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409, 409], \
        [f"{r.status_code} {r.text}" for r in responses]
    assert [w["name"] for w in api.get("/api/workflows").json()["items"]] == ["raced"]


def test_unknown_workflows_and_runs_are_a_404(api):
    for method, path in [
        ("GET", "/api/workflows/nope"),
        ("PUT", "/api/workflows/nope"),
        ("DELETE", "/api/workflows/nope"),
        ("POST", "/api/workflows/nope/runs"),
        ("GET", "/api/workflows/12345"),
        ("GET", "/api/runs/0000000000000000000000000000dead"),
        ("POST", "/api/runs/0000000000000000000000000000dead/cancel"),
        ("GET", "/api/runs?workflow=nope"),
    ]:
        response = api.request(method, path, json=hello() if method == "PUT" else None)
        assert "not found" in assert_client_error(response, 404)["detail"], (method, path)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_a_bad_cursor_is_a_400(api):
    cursors = {
        "not base64": "garbage!",
        "no separator": _b64("no separator"),
        "not a time": _b64("not a time|0123"),
        "not utf-8": base64.urlsafe_b64encode(b"\xff\xfe|x").decode(),
        "a time without a zone": _b64("2024-01-01T00:00:00|0123"),
    }
    answers = {what: api.get("/api/runs", params={"cursor": cursor})
               for what, cursor in cursors.items()}
    wrong = {what: f"{r.status_code} {r.text}" for what, r in answers.items()
             if r.status_code != 400 or "cursor" not in r.json()["detail"]}
    assert wrong == {}


def test_bad_run_list_filters_are_a_422(api):
    for params in [{"status": "done"}, {"limit": 0}, {"limit": "ten"}, {"limit": 501}]:
        body = assert_client_error(api.get("/api/runs", params=params), 422)
        assert next(iter(params)) in body["detail"], params


def test_deleting_a_workflow_while_its_run_is_in_flight(api, embedded, http_server):
    # given a run stalled inside its first HTTP step
    release = threading.Event()
    http_server.script("/slow", Reply(body={"slow": True}, stall=release))
    create(api, {"name": "in-flight", "nodes": [
        {"key": "start", "type": "trigger.manual"},
        http_node("slow", http_server.url + "/slow"),
        http_node("after", http_server.url + "/after")],
        "edges": [{"from": "start", "to": "slow"}, {"from": "slow", "to": "after"}]})
    run_id = start(api, "in-flight")
    try:
        wait_until(lambda: http_server.hits["/slow"] == 1, "the slow step to be called")

        # when the workflow is deleted, then the step returns
        response = api.delete("/api/workflows/in-flight")
    finally:
        release.set()

    # expect 204, the run gone, and the worker letting go without starting the next step
    assert response.status_code == 204, response.text
    assert_client_error(api.get(f"/api/runs/{run_id}"), 404)
    wait_until(lambda: embedded.executor.held_leases() == [], "the worker to let go of the run")
    assert http_server.hits["/after"] == 0
    assert api.get("/api/runs").json()["items"] == []
