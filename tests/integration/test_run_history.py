"""The run history over the API (`GET /api/runs`) on SQLite and PostgreSQL: the time range
filter with the workflow and status filters and pagination, each run's tokens and cost, and
bad time values (a 422, never a 500). Runs are written straight to the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from n8nclone.workflows import save_workflow
from tests.utils.history import insert_history, run_row, step_row

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def saved(services, name: str):
    return save_workflow(services.workflows, services.registry, {
        "name": name, "nodes": [{"key": "start", "type": "trigger.manual"}], "edges": []})


def every_page(api: httpx.Client, **params) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        response = api.get("/api/runs", params=params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 20, "pagination does not end"


def test_time_range_with_workflow_and_status_filters_pages_newest_first(api, embedded):
    # given two workflows with a run every hour for 10 hours, alternately succeeded/failed
    wanted, other = saved(embedded, "wanted"), saved(embedded, "other")
    runs = {}
    for record in (wanted, other):
        for hour in range(10):
            row = run_row(record.id, record.version_id, T0 + timedelta(hours=hour),
                          "succeeded" if hour % 2 == 0 else "failed")
            runs[record.name, hour] = row
    insert_history(embedded.run_queries.db, list(runs.values()))

    # when the succeeded runs of one workflow from 14:00 (given as 16:00+02:00, inclusive)
    # until 20:00 (given without a zone: UTC; exclusive) are listed 2 at a time
    pages = every_page(api, workflow="wanted", status="succeeded", limit=2,
                       since="2024-03-01T16:00:00+02:00", until="2024-03-01T20:00:00")

    # expect the runs of 18:00, 16:00 and 14:00, newest first, in pages of 2 and 1
    assert [len(p) for p in pages] == [2, 1]
    assert [r["id"] for p in pages for r in p] == [runs["wanted", h]["id"] for h in (6, 4, 2)]
    # and each bound on its own, without the other filters
    after = every_page(api, since=(T0 + timedelta(hours=8)).isoformat())
    assert {r["id"] for p in after for r in p} == {runs[w, h]["id"] for w in ("wanted", "other")
                                                   for h in (8, 9)}
    before = every_page(api, until=(T0 + timedelta(hours=1)).isoformat(), limit=1)
    # (two runs started at the same time: the id breaks the tie across pages)
    assert [r["id"] for p in before for r in p] == sorted(
        [runs["wanted", 0]["id"], runs["other", 0]["id"]], reverse=True)
    # and a range with nothing in it is an empty page
    empty = api.get("/api/runs", params={"since": "2030-01-01T00:00:00Z"}).json()
    assert empty == {"items": [], "next_cursor": None}


def test_listed_runs_carry_their_tokens_and_cost(api, embedded):
    # given a run with two metered steps and a plain one, a run with tokens of unknown price,
    # and a run without any metered call
    record = saved(embedded, "usage")
    priced, unpriced, plain = (run_row(record.id, record.version_id, T0 + timedelta(minutes=m),
                                       steps=3) for m in (2, 1, 0))
    steps = [step_row(priced["id"], "first", T0, tokens=10, cost_usd=0.001),
             step_row(priced["id"], "second", T0, tokens=30, cost_usd=0.002),
             step_row(priced["id"], "shape", T0),
             step_row(unpriced["id"], "first", T0, tokens=7),
             step_row(plain["id"], "shape", T0)]
    insert_history(embedded.run_queries.db, [priced, unpriced, plain], steps)

    # when they are listed, one per page
    items = [r for p in every_page(api, workflow="usage", limit=1) for r in p]

    # expect each with its own sums, beside the fields the history shows
    usage = {r["id"]: (r["total_tokens"], r["cost_usd"]) for r in items}
    assert usage[priced["id"]][0] == 40 and abs(usage[priced["id"]][1] - 0.003) < 1e-9
    assert usage[unpriced["id"]] == (7, None)
    assert usage[plain["id"]] == (0, None)
    first = items[0]
    assert first["id"] == priced["id"] and first["workflow"] == "usage"
    assert first["status"] == "succeeded" and first["trigger_type"] == "manual"
    assert first["step_count"] == 3 and first["duration_ms"] == 1000
    assert datetime.fromisoformat(first["started_at"]) == T0 + timedelta(minutes=2)


def test_bad_time_range_is_a_422(api):
    for params in [{"since": "yesterday"}, {"until": "2024-13-01T00:00:00"},
                   {"since": "0001-01-01T00:00:00+01:00"},
                   {"since": "2024-03-02T00:00:00Z", "until": "2024-03-01T00:00:00Z"}]:
        response = api.get("/api/runs", params=params)
        assert response.status_code == 422, f"{params}: {response.status_code} {response.text}"
        assert next(iter(params)) in response.json()["detail"], params


def test_the_time_range_is_documented_in_openapi(api):
    operation = api.get("/openapi.json").json()["paths"]["/api/runs"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    for name in ("since", "until"):
        assert "ISO 8601" in params[name]["description"], params[name]
    assert "total_tokens" in operation["description"]
