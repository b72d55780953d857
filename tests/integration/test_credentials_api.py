"""/api/credentials over real HTTP, on SQLite and PostgreSQL: add, list, read, replace and
delete, with no answer ever holding a secret; bad input gets a readable 4xx; steps use a
credential by name (`http.request`), and an unknown name or a wrong secret key fails the
step with a clear message."""

from __future__ import annotations

import base64

import httpx
import pytest
from cryptography.fernet import Fernet

from n8nclone.credentials.crypto import SecretKeyLoader
from tests.utils.runs import http_node, steps_by_key, wait_until

SECRET = "sk-live-0123456789abcdef"
TERMINAL = ("succeeded", "failed", "cancelled")


def add(api: httpx.Client, name: str, type_name: str, value: str, status: int = 201) -> dict:
    response = api.post("/api/credentials", json={"name": name, "type": type_name,
                                                  "value": value})
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, status: int, fragment: str) -> None:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert fragment in response.json()["detail"], response.text
    assert SECRET not in response.text


def test_add_list_read_replace_and_delete_without_showing_a_secret(api):
    # when credentials are added
    created = add(api, "openai", "llm_api_key", SECRET)
    add(api, "hook", "http_header", f"X-Api-Key: {SECRET}")

    # expect name, type, masked hint and times, and never the secret
    assert {k: created[k] for k in ("name", "type", "hint")} == {
        "name": "openai", "type": "llm_api_key", "hint": "…cdef"}
    assert set(created) == {"name", "type", "hint", "created_at", "updated_at"}
    listed = api.get("/api/credentials")
    assert [(c["name"], c["hint"]) for c in listed.json()["items"]] == [
        ("hook", "X-Api-Key: …cdef"), ("openai", "…cdef")]
    read = api.get("/api/credentials/openai")
    assert read.status_code == 200 and read.json() == created
    for response in (listed, read):
        assert SECRET not in response.text and "gAAAA" not in response.text

    # when the same name is added again
    replaced = add(api, "openai", "llm_api_key", "sk-rotated-99999999", status=200)

    # expect it replaced, keeping its creation time
    assert replaced["hint"] == "…9999" and replaced["created_at"] == created["created_at"]

    # when it is deleted
    assert api.delete("/api/credentials/openai").status_code == 204

    # expect it gone: 404 JSON for reading and deleting it
    refused(api.get("/api/credentials/openai"), 404, "credential 'openai' not found")
    refused(api.delete("/api/credentials/openai"), 404, "credential 'openai' not found")
    assert [c["name"] for c in api.get("/api/credentials").json()["items"]] == ["hook"]


@pytest.mark.parametrize("body, fragment", [
    ({"name": "x", "type": "api_key", "value": SECRET}, "unknown credential type 'api_key'"),
    ({"name": "x", "type": "http_header", "value": SECRET}, "'Header-Name: secret'"),
    ({"name": "x", "type": "http_basic", "value": SECRET}, "'user:password'"),
    ({"name": "", "type": "llm_api_key", "value": SECRET}, "must not be empty"),
    ({"name": "a/b", "type": "llm_api_key", "value": SECRET}, "'/'"),
    ({"name": "x", "type": "llm_api_key"}, "value"),
    ({"name": "x", "type": "llm_api_key", "value": SECRET, "secret": SECRET}, "secret"),
    ({"name": "x", "type": "llm_api_key", "value": 12}, "value"),
])
def test_bad_input_is_a_422_that_does_not_echo_the_secret(api, body, fragment):
    refused(api.post("/api/credentials", json=body), 422, fragment)
    assert api.get("/api/credentials").json()["items"] == []


def test_a_wrong_secret_key_is_a_clear_409(api, embedded):
    # given a credential, and then the server's secret key changed
    add(api, "openai", "llm_api_key", SECRET)
    embedded.credentials.key_loader = SecretKeyLoader(Fernet.generate_key().decode(),
                                                      embedded.settings.data_dir / "x.key")

    # expect adding another refused with the reason (it would mix two keys)
    refused(api.post("/api/credentials", json={"name": "github", "type": "bearer_token",
                                               "value": "ghp_000000000000000"}),
            409, "cannot be decrypted with this secret key (from N8NCLONE_SECRET_KEY)")
    # while listing still works (it needs no key)
    assert [c["name"] for c in api.get("/api/credentials").json()["items"]] == ["openai"]


# -- steps use credentials by name ---------------------------------------------------------


def run_fetch(api: httpx.Client, name: str, url: str, credential: str) -> dict:
    workflow = {"name": name, "settings": {"retries": 0}, "nodes": [
        {"key": "start", "type": "trigger.manual"},
        http_node("fetch", url, params={"url": url, "credential": credential})],
        "edges": [{"from": "start", "to": "fetch"}]}
    assert api.post("/api/workflows", json=workflow).status_code == 201
    response = api.post(f"/api/workflows/{name}/runs", json={"data": {}})
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]

    def finished():
        run = api.get(f"/api/runs/{run_id}").json()
        return run if run["status"] in TERMINAL else None
    return wait_until(finished, f"run {run_id} to finish")


def test_a_step_uses_a_stored_credential_and_stores_no_secret(api, http_server):
    # given a basic auth credential
    add(api, "partner", "http_basic", f"alice:{SECRET}")
    http_server.script("/private")

    # when a workflow calls the server with it
    run = run_fetch(api, "with-credential", http_server.url + "/private", "partner")

    # expect the request authenticated, and the secret nowhere in the run or the export
    assert run["status"] == "succeeded", run
    expected = "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()
    headers = {k.lower(): v for k, v in http_server.requests[-1]["headers"].items()}
    assert headers["authorization"] == expected
    exported = api.get("/api/workflows/with-credential")
    assert SECRET not in str(run) and SECRET not in exported.text
    assert "partner" in exported.text


def test_an_unknown_credential_fails_the_step_with_its_name(api, http_server):
    run = run_fetch(api, "unknown-credential", http_server.url + "/x", "nope")
    assert run["status"] == "failed"
    step = steps_by_key(run)["fetch"]
    assert step["attempts"] == 1 and "no credential named 'nope'" in step["error"]["message"]
    assert http_server.hits["/x"] == 0


def test_a_wrong_secret_key_fails_the_step_with_a_clear_message(api, embedded, http_server):
    # given a credential, and then the secret key changed
    add(api, "token", "bearer_token", SECRET)
    embedded.credentials.key_loader = SecretKeyLoader(Fernet.generate_key().decode(),
                                                      embedded.settings.data_dir / "x.key")

    # when a step uses it
    run = run_fetch(api, "wrong-key", http_server.url + "/x", "token")

    # expect it failed at once, saying why, and no request sent
    assert run["status"] == "failed"
    step = steps_by_key(run)["fetch"]
    assert step["attempts"] == 1
    assert ("credential 'token' cannot be decrypted with this secret key"
            in step["error"]["message"])
    assert "Traceback" not in str(run) and http_server.hits["/x"] == 0
