"""Wait benchmarks (issue (b)), printed as a table: many sleeping and waiting runs at once.

10,000 runs that sleep (`wait.sleep` until a time 20-60 s after they are all created, spread
evenly; started in random order of their wake times, or with `--order spread` in that order)
and 10,000 runs that wait for an event (`wait.event`, one event per run):

- time to create them (from the first start to every run parked as sleeping/waiting);
- worker memory (RSS) before, after creating them and while they wait;
- worker threads held while they wait (runs under a lease; a new short run's latency);
- wake-up lateness p50/p99/max: the wait step's end minus the time it was to wake
  (`slept_until`, the sleep's own target);
- event-to-resume latency: the event's `received_at` to the end of its wait step, one
  event at a time (the system otherwise idle), then for every other event sent in batches
  of `--batch` as fast as the event ingestion takes them.

Targets: no worker thread held by a waiting run, memory growth under 50 MB for 1,000
waiting runs, wake-up lateness p99 under 1 s.

Embedded default (in-process broker and worker threads, SQLite file, the sweep on with its
default timings) in this process (about 3 minutes); with `--redis`, also a separate
`n8nclone worker` process on Redis (this process only starts runs and ingests events; the
worker's RSS is measured; about 5 minutes more).

Usage: .venv/bin/python bench/waits.py [--sleepers 10000] [--waiters 10000] [--redis]
                                       [--batch 100] [--single 200] [--order shuffled]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import psutil
import redis
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import n8nclone_env  # noqa: E402
from n8nclone.config import load_settings  # noqa: E402
from n8nclone.engine.start import start_run  # noqa: E402
from n8nclone.services import Services, build_services  # noqa: E402
from n8nclone.store.migrate import migrate  # noqa: E402
from n8nclone.store.models import Event, Run, Step, Wait  # noqa: E402
from n8nclone.triggers.events import EventIn, ingest_events  # noqa: E402
from n8nclone.worker.runtime import WorkerRuntime  # noqa: E402
from n8nclone.workflows import save_workflow  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/9"
EVENT = "bench/approve"
WAKE_FROM, WAKE_SPREAD = 20.0, 40.0  # sleepers wake 20-60 s after they are all created
RUN, STEP, WAIT, EVENT_T = Run.__table__, Step.__table__, Wait.__table__, Event.__table__
MB = 2**20


def workflows(tag: str) -> dict[str, dict]:
    done = {"key": "done", "type": "data.set", "params": {"values": {"ok": True}}}
    return {
        "sleeper": {"name": f"bench-sleeper-{tag}", "nodes": [
            {"key": "start", "type": "trigger.manual"},
            {"key": "nap", "type": "wait.sleep", "params": {"until": "{{ trigger.until }}"}},
            done], "edges": [{"from": "start", "to": "nap"}, {"from": "nap", "to": "done"}]},
        "waiter": {"name": f"bench-waiter-{tag}", "nodes": [
            {"key": "start", "type": "trigger.manual"},
            {"key": "wait", "type": "wait.event",
             "params": {"event": EVENT, "match_field": "data.id",
                        "match_value": "{{ trigger.id }}", "timeout": "1h"}},
            done], "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "done"}]},
        "probe": {"name": f"bench-probe-{tag}", "nodes": [
            {"key": "start", "type": "trigger.manual"}, done],
            "edges": [{"from": "start", "to": "done"}]},
    }


def env_for(database_url: str, data_dir: str, namespace: str | None) -> dict[str, str]:
    return n8nclone_env(database_url, data_dir, REDIS_URL, namespace)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / MB


class Bench:
    """One configuration: the services that start runs here, and where the worker is."""

    def __init__(self, label: str, services: Services, worker_pid: int,
                 rows: list[tuple[str, str, str]]):
        self.label, self.services, self.worker_pid, self.rows = label, services, worker_pid, rows
        self.records = {kind: save_workflow(services.workflows, services.registry, spec)
                        for kind, spec in workflows(uuid.uuid4().hex[:6]).items()}

    # -- helpers -----------------------------------------------------------------------

    def row(self, name: str, result: str, target: str = "") -> None:
        self.rows.append((f"{self.label}: {name}", result, target))
        print(f"  {name}: {result}", flush=True)

    def start(self, kind: str, data: dict) -> str:
        record = self.records[kind]
        return start_run(self.services.runs, self.services.dispatcher, workflow_id=record.id,
                         version_id=record.version_id, plan_settings={}, input=data)

    def count(self, kind: str, statuses: tuple[str, ...]) -> int:
        with self.services.db.read() as conn:
            return conn.execute(select(func.count()).where(
                RUN.c.workflow_id == self.records[kind].id,
                RUN.c.status.in_(statuses))).scalar()

    def wait_count(self, kind: str, statuses: tuple[str, ...], n: int, timeout: float,
                   what: str, poll: float = 0.05) -> None:
        deadline = time.monotonic() + timeout
        while (done := self.count(kind, statuses)) < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: {done}/{n} after {timeout} s "
                                   f"({self.services.runs.count_by_status()})")
            time.sleep(poll)

    def leased(self) -> int:
        """Runs a worker is working on right now (each holds one worker thread)."""
        with self.services.db.read() as conn:
            return conn.execute(select(func.count()).where(RUN.c.lease_owner.is_not(None))
                                ).scalar()

    def leased_statuses(self) -> set[tuple[str, str]]:
        """(workflow kind, run status) of the runs under a lease now."""
        kinds = {record.id: kind for kind, record in self.records.items()}
        with self.services.db.read() as conn:
            rows = conn.execute(select(RUN.c.workflow_id, RUN.c.status)
                                .where(RUN.c.lease_owner.is_not(None))).all()
        return {(kinds.get(w, str(w)), status) for w, status in rows}

    def worker_rss(self) -> float:
        gc.collect()
        return rss_mb(self.worker_pid)

    def create(self, kind: str, n: int, data: Callable[[int], dict], parked: str,
               also: tuple[str, ...] = ()) -> float:
        started = time.perf_counter()
        for i in range(n):
            self.start(kind, data(i))
        sent = time.perf_counter() - started
        self.wait_count(kind, (parked, *also), n, 600, f"{kind}s parked")
        total = time.perf_counter() - started
        failed = self.count(kind, ("failed", "cancelled"))
        assert failed == 0, f"{failed} {kind} runs failed"
        self.row(f"create {n:,} {kind}s (started / all {parked})",
                 f"{sent:.1f} s / {total:.1f} s = {n / total:,.0f} runs/s")
        return total

    # -- the phases --------------------------------------------------------------------

    def run(self, sleepers: int, waiters: int, single: int, batch: int, order: str) -> None:
        print(f"{self.label}:", flush=True)
        for kind in ("probe", "probe", "probe"):  # warm up: imports, plans, connections
            self.start(kind, {})
        self.wait_count("probe", ("succeeded",), 3, 60, "warm-up")
        threads_before = len(psutil.Process(self.worker_pid).threads())
        rss_before = self.worker_rss()
        rate = 150.0  # runs/s, until measured
        if waiters:
            rate = waiters / self.create("waiter", waiters, lambda i: {"id": i}, "waiting")
            rss_waiters = self.worker_rss()
            growth = (rss_waiters - rss_before) * 1000 / waiters
            self.row(f"worker RSS before / after {waiters:,} waiting runs",
                     f"{rss_before:.0f} MB / {rss_waiters:.0f} MB (+{growth:.1f} MB per 1,000)",
                     "< 50 MB per 1,000")
        if sleepers:
            self.create_sleepers(sleepers, rate, order)
            self.row(f"worker RSS after + {sleepers:,} sleeping runs",
                     f"{self.worker_rss():.0f} MB")
        self.while_waiting(waiters + sleepers, threads_before)
        if sleepers:
            self.wait_count("sleeper", ("succeeded",), sleepers, WAKE_FROM + WAKE_SPREAD + 300,
                            "sleepers woke")
            lateness = self.lateness()
            self.row(f"wake-up lateness p50 / p99 / max ({len(lateness):,} sleepers, "
                     f"{order} order, {sleepers / WAKE_SPREAD:,.0f} wakes/s)",
                     f"{pct(lateness, .5) * 1000:,.0f} / {pct(lateness, .99) * 1000:,.0f} / "
                     f"{max(lateness) * 1000:,.0f} ms", "p99 < 1 s")
        if waiters:
            self.send_events(waiters, single, batch)
        self.row("worker RSS at the end", f"{self.worker_rss():.0f} MB")

    def create_sleepers(self, sleepers: int, rate: float, order: str) -> None:
        """Every sleeper wakes WAKE_FROM..WAKE_FROM + WAKE_SPREAD s after the last one is
        created (the creation time estimated from `rate`), at evenly spread times; started
        in the order of their wake times (`spread`) or in random order (`shuffled`)."""
        first_wake = time.time() + sleepers / rate * 1.3 + 5 + WAKE_FROM
        wakes = [first_wake + WAKE_SPREAD * i / sleepers for i in range(sleepers)]
        if order == "shuffled":
            random.Random(7).shuffle(wakes)
        took = self.create("sleeper", sleepers, lambda i: {"until": wakes[i]}, "sleeping",
                           also=("succeeded",))
        woke_early = self.count("sleeper", ("succeeded",))
        if woke_early:
            print(f"  note: {woke_early} sleepers woke before the last one was created "
                  f"(creating took {took:.0f} s)", flush=True)

    def while_waiting(self, parked: int, threads_before: int) -> None:
        """Worker threads held, a short run's latency and memory while every run waits."""
        peak, seen = 0, set()
        for _ in range(20):
            busy = self.leased()
            if busy:
                seen |= self.leased_statuses()
            peak = max(peak, busy)
            time.sleep(0.05)
        if seen:
            print(f"  note: leased while waiting: {sorted(seen)}", flush=True)
        probes = []
        for _ in range(5):
            t0 = time.perf_counter()
            before = self.count("probe", ("succeeded",))
            self.start("probe", {})
            self.wait_count("probe", ("succeeded",), before + 1, 30, "probe run", poll=0.002)
            probes.append(time.perf_counter() - t0)
        threads = len(psutil.Process(self.worker_pid).threads())
        self.row(f"runs holding a worker thread while {parked:,} runs wait (20 samples)",
                 f"max {peak}; worker process threads {threads_before} -> {threads}", "0")
        self.row("a new short run while they wait (start to succeeded, median of 5)",
                 f"{statistics.median(probes) * 1000:.0f} ms")
        self.row("worker RSS while they wait", f"{self.worker_rss():.0f} MB")

    def send_events(self, waiters: int, single: int, batch: int) -> None:
        """One event at a time (each waits for its run), then the rest in batches."""
        single = min(single, waiters)
        for i in range(single):
            ingest_events(self.services, [EventIn(name=EVENT, data={"id": i})])
            self.wait_count("waiter", ("succeeded",), i + 1, 60, "single event resumed",
                            poll=0.005)
        if single:
            latency = self.resume_latency()
            self.row(f"event-to-resume, one event at a time ({single}, "
                     f"{waiters - single:,} others waiting)",
                     f"p50 {pct(latency, .5) * 1000:.0f} ms, "
                     f"p99 {pct(latency, .99) * 1000:.0f} ms")
        rest = waiters - single
        if not rest:
            return
        started = time.perf_counter()
        for first in range(single, waiters, batch):
            ingest_events(self.services, [EventIn(name=EVENT, data={"id": i})
                                          for i in range(first, min(waiters, first + batch))])
        sent = time.perf_counter() - started
        self.wait_count("waiter", ("succeeded",), waiters, 600, "every waiter resumed")
        total = time.perf_counter() - started
        latency = self.resume_latency(skip=single)
        self.row(f"event-to-resume, {rest:,} events in batches of {batch}",
                 f"p50 {pct(latency, .5):.2f} s, p99 {pct(latency, .99):.2f} s; ingested "
                 f"{rest / sent:,.0f} events/s, resumed {rest / total:,.0f} runs/s")

    def lateness(self) -> list[float]:
        with self.services.db.read() as conn:
            rows = conn.execute(select(STEP.c.output, STEP.c.ended_at).join(
                RUN, RUN.c.id == STEP.c.run_id).where(
                RUN.c.workflow_id == self.records["sleeper"].id, STEP.c.node_key == "nap")).all()
        return [(ended - datetime.fromisoformat(out["slept_until"])).total_seconds()
                for out, ended in rows]

    def resume_latency(self, skip: int = 0) -> list[float]:
        """received_at of each event to the end of the wait step it completed, in the
        order the events were sent, without the first `skip`."""
        with self.services.db.read() as conn:
            rows = conn.execute(
                select(EVENT_T.c.received_at, STEP.c.ended_at)
                .join(WAIT, WAIT.c.event_id == EVENT_T.c.id)
                .join(STEP, (STEP.c.run_id == WAIT.c.run_id) & (STEP.c.node_key == WAIT.c.node_key))
                .join(RUN, RUN.c.id == WAIT.c.run_id)
                .where(RUN.c.workflow_id == self.records["waiter"].id)
                .order_by(EVENT_T.c.received_at)).all()
        return [(ended - received).total_seconds() for received, ended in rows[skip:]]


# -- configurations ------------------------------------------------------------------------


def embedded(tmp: Path, args, rows) -> None:
    url = f"sqlite:///{tmp / 'embedded.db'}"
    migrate(url)
    services = build_services(load_settings(env_for(url, str(tmp), None)))
    runtime = WorkerRuntime(services).start()
    try:
        Bench("embedded (SQLite, in-process worker)", services, os.getpid(), rows).run(
            args.sleepers, args.waiters, args.single, args.batch, args.order)
    finally:
        runtime.stop()


def redis_worker(tmp: Path, args, rows) -> None:
    url = f"sqlite:///{tmp / 'redis.db'}"
    migrate(url)
    namespace = f"bench-waits-{uuid.uuid4().hex[:6]}"
    env = env_for(url, str(tmp), namespace)
    services = build_services(load_settings(env))
    log = tmp / "worker.log"
    proc = subprocess.Popen([sys.executable, "-m", "n8nclone.cli", "worker", "--threads", "8"],
                            env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, cwd=ROOT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while b"ready" not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{log.read_text()}")
            time.sleep(0.05)
        Bench("Redis + 1 `n8nclone worker` (SQLite)", services, proc.pid, rows).run(
            args.sleepers, args.waiters, args.single, args.batch, args.order)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
        services.broker.close()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{namespace}*"))
        if keys:
            client.delete(*keys)


def print_table(rows: list[tuple[str, str, str]]) -> None:
    header = ("benchmark", "result", "target")
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(3)]
    print(f"| {header[0]:<{widths[0]}} | {header[1]:<{widths[1]}} | {header[2]:<{widths[2]}} |")
    print(f"|{'-' * (widths[0] + 2)}|{'-' * (widths[1] + 2)}|{'-' * (widths[2] + 2)}|")
    for row in rows:
        print(f"| {row[0]:<{widths[0]}} | {row[1]:<{widths[1]}} | {row[2]:<{widths[2]}} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sleepers", type=int, default=10_000)
    parser.add_argument("--waiters", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=200,
                        help="events sent one at a time (latency on an idle system)")
    parser.add_argument("--batch", type=int, default=100, help="events per ingest call")
    parser.add_argument("--order", choices=("shuffled", "spread"), default="shuffled",
                        help="sleepers started in random order of their wake times, or in it")
    parser.add_argument("--redis", action="store_true",
                        help="also with a separate `n8nclone worker` on Redis")
    parser.add_argument("--skip-embedded", action="store_true")
    parser.add_argument("--wake-from", type=float, default=WAKE_FROM,
                        help="first wake, s after the sleepers are created")
    parser.add_argument("--wake-spread", type=float, default=WAKE_SPREAD,
                        help="wakes are spread evenly over this many s")
    args = parser.parse_args()
    globals().update(WAKE_FROM=args.wake_from, WAKE_SPREAD=args.wake_spread)

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if not args.skip_embedded:
            embedded(tmp, args, rows)
        if args.redis:
            redis_worker(tmp, args, rows)
    print()
    print_table(rows)


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
