"""Run history benchmark (issue 5), printed as a table: the server time of the history
queries with 100,000 runs in the database.

The database holds 20 workflows and 100,000 runs started over 30 days (mixed statuses:
mostly succeeded, some failed, cancelled, running, waiting, sleeping), with 3 or 4 steps
each, one of them an LLM call with tokens and cost in half of the workflows; all written in
bulk (executemany), not run. Then `RunQueries.list_runs` (the query behind
`GET /api/runs`, without HTTP) is timed, median and p95 of `--calls` calls each: the first
page, pages filtered by workflow, by status, by both, by a one-day time range, the 50th page
(through the cursors), and `get_run` of one run with its steps.

Target: history pages under 100 ms of server time.

SQLite (a file, as `n8nclone up` uses it) by default; with `--postgres`, also on a fresh
PostgreSQL database (ANALYZEd after the load, as autovacuum would). `--explain` prints each
query's plan.

Usage: .venv/bin/python bench/history.py [--runs 100000] [--calls 50] [--postgres] [--explain]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import n8nclone_env  # noqa: E402
from n8nclone.config import load_settings  # noqa: E402
from n8nclone.services import Services, build_services  # noqa: E402
from n8nclone.store.migrate import migrate  # noqa: E402
from n8nclone.workflows import save_workflow  # noqa: E402
from tests.utils.databases import create_postgres_database, drop_postgres_database  # noqa: E402
from tests.utils.history import insert_history, run_row, step_row  # noqa: E402

WORKFLOWS = 20
PAGE = 50
SPAN = timedelta(days=30)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
STATUSES = (("succeeded", 0.80), ("failed", 0.12), ("cancelled", 0.03), ("running", 0.02),
            ("waiting", 0.02), ("sleeping", 0.01))
BATCH = 5000


def workflow(n: int) -> dict:
    return {"name": f"history-{n:02d}", "nodes": [
        {"key": "start", "type": "trigger.manual"},
        {"key": "shape", "type": "data.set", "params": {"values": {"id": "{{ trigger.id }}"}}},
        {"key": "ask", "type": "ai.prompt",
         "params": {"model": "openai/gpt-4o-mini", "prompt": "Summarize {{ input.id }}"}},
        {"key": "store", "type": "data.set", "params": {"values": {"done": True}}}],
        "edges": [{"from": "start", "to": "shape"}, {"from": "shape", "to": "ask"},
                  {"from": "ask", "to": "store"}]}


def fill(services: Services, runs: int, rng: random.Random) -> list:
    """20 workflows and `runs` runs with their steps, in batches of BATCH rows."""
    records = [save_workflow(services.workflows, services.registry, workflow(n))
               for n in range(WORKFLOWS)]
    statuses, weights = zip(*STATUSES, strict=True)
    run_rows, step_rows = [], []
    for n in range(runs):
        record = records[n % WORKFLOWS]
        started = NOW - SPAN * rng.random()
        status = rng.choices(statuses, weights)[0]
        keys = ["start", "shape", "ask"] + (["store"] if rng.random() < 0.5 else [])
        run = run_row(record.id, record.version_id, started, status, steps=len(keys),
                      duration=timedelta(milliseconds=rng.randint(20, 5000)),
                      trigger_type=rng.choice(("manual", "webhook", "event", "schedule")))
        run_rows.append(run)
        metered = record.id % 2 == 0  # half of the workflows call an LLM
        for key in keys:
            if key == "ask" and metered:
                tokens = rng.randint(50, 2000)
                step_rows.append(step_row(run["id"], key, started, tokens=tokens,
                                          cost_usd=tokens * 2e-7, node_type="ai.prompt"))
            else:
                step_rows.append(step_row(run["id"], key, started))
        if len(run_rows) >= BATCH or n == runs - 1:
            insert_history(services.db, run_rows, step_rows)
            run_rows, step_rows = [], []
    return records


def timed(call: Callable[[], object], calls: int) -> tuple[float, float]:
    """Median and p95 of `calls` calls, in ms (after one call to warm caches)."""
    call()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def cursor_of_page(services: Services, page: int) -> str:
    cursor = None
    for _ in range(page - 1):
        cursor = services.run_queries.list_runs(limit=PAGE, cursor=cursor)["next_cursor"]
    return cursor


def queries(services: Services, records: list) -> list[tuple[str, Callable[[], object]]]:
    history = services.run_queries
    workflow_id = records[3].id
    day = NOW - timedelta(days=10)
    cursor = cursor_of_page(services, 50)
    one_run = history.list_runs(limit=1, workflow_id=records[0].id)["items"][0]["id"]
    page = {"limit": PAGE}
    return [
        ("first page (no filter)", lambda: history.list_runs(**page)),
        ("by workflow", lambda: history.list_runs(workflow_id=workflow_id, **page)),
        ("by status (failed)", lambda: history.list_runs(status="failed", **page)),
        ("by workflow + status (failed)",
         lambda: history.list_runs(workflow_id=workflow_id, status="failed", **page)),
        ("by workflow + status (waiting)",
         lambda: history.list_runs(workflow_id=workflow_id, status="waiting", **page)),
        ("by time range (one day)",
         lambda: history.list_runs(started_after=day, started_before=day + timedelta(days=1),
                                   **page)),
        ("by workflow + time range (one day)",
         lambda: history.list_runs(workflow_id=workflow_id, started_after=day,
                                   started_before=day + timedelta(days=1), **page)),
        ("50th page (cursor)", lambda: history.list_runs(cursor=cursor, **page)),
        ("get_run (one run, 3-4 steps)", lambda: history.get_run(one_run)),
    ]


def explain(services: Services, label: str, records: list) -> None:
    """Print the plan the database chooses for each SELECT the history queries send."""
    engine = services.db.engine
    prefix = "EXPLAIN QUERY PLAN " if services.db.is_sqlite else "EXPLAIN ANALYZE "
    captured: list[tuple[str, object]] = []

    def note(_conn, _cursor, statement, parameters, _context, _executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    for name, call in queries(services, records):
        captured.clear()
        event.listen(engine, "before_cursor_execute", note)
        try:
            call()
        finally:
            event.remove(engine, "before_cursor_execute", note)
        print(f"--- {label}: {name}")
        with engine.connect() as conn:
            for statement, parameters in captured:
                for row in conn.exec_driver_sql(prefix + statement, parameters):
                    print("   ", " ".join(str(c) for c in row))


def bench_database(label: str, url: str, tmp: Path, args) -> list[tuple[str, str, str, str]]:
    migrate(url)
    services = build_services(load_settings(n8nclone_env(url, tmp, "", None)))
    started = time.perf_counter()
    records = fill(services, args.runs, random.Random(5))
    if not services.db.is_sqlite:
        with services.db.write() as conn:
            conn.execute(text("ANALYZE"))
    print(f"{label}: {args.runs:,} runs written in {time.perf_counter() - started:.0f} s",
          flush=True)
    if args.explain:
        explain(services, label, records)
    rows = []
    for name, call in queries(services, records):
        median, p95 = timed(call, args.calls)
        rows.append((f"{name}, {label}", f"{median:.1f} ms", f"{p95:.1f} ms", "< 100 ms"))
    services.db.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        rows += bench_database("SQLite", f"sqlite:///{tmp / 'bench.db'}", tmp, args)
        if args.postgres:
            pg_name, url = create_postgres_database()
            try:
                rows += bench_database("PostgreSQL", url, tmp, args)
            finally:
                from n8nclone.store.db import _databases

                db = _databases.pop(url, None)
                if db is not None:
                    db.dispose()
                drop_postgres_database(pg_name)

    header = (f"history query ({args.runs:,} runs, {PAGE} per page)", "median", "p95",
              "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
