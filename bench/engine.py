"""Engine benchmarks, printed as a table (issue 2).

(a) end-to-end time of one 40-node `data.set` chain on Redis with one worker process
    (median of 20 runs);
(b) step throughput of many such runs at once on that worker, divided by the throughput of
    a no-op Dramatiq actor on the same Redis, measured in this same script;
(c) checkpointed steps/s on the embedded default (in-process broker, SQLite);
(d) resident memory of an idle `n8nclone up` (all its processes).

Usage: .venv/bin/python bench/engine.py [--runs 20] [--batch 100] [--postgres] [--skip-up]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import n8nclone_env  # noqa: E402
from n8nclone.config import load_settings  # noqa: E402
from n8nclone.engine.start import start_run  # noqa: E402
from n8nclone.services import build_services  # noqa: E402
from n8nclone.store.migrate import migrate  # noqa: E402
from n8nclone.worker.runtime import WorkerRuntime  # noqa: E402
from n8nclone.workflows import save_workflow  # noqa: E402
from tests.utils.databases import create_postgres_database, drop_postgres_database  # noqa: E402
from tests.utils.workflows import chain  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/10"
CHAIN_LENGTH = 40


def _env(database_url: str, data_dir: str, namespace: str | None) -> dict[str, str]:
    return n8nclone_env(database_url, data_dir, REDIS_URL, namespace)


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 60
    while b"ready" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{cmd} did not start:\n{log.read_text()}")
        time.sleep(0.05)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)


def _wait_all(services, run_ids: list[str], timeout: float = 600) -> None:
    """Wait until every run finished, polling with one cheap query at a time."""
    from sqlalchemy import func, select

    from n8nclone.store.models import Run

    table = Run.__table__
    deadline = time.monotonic() + timeout
    pending = list(run_ids)
    while pending:
        with services.db.read() as conn:
            done = conn.execute(select(func.count()).where(
                table.c.id.in_(pending[:500]),
                table.c.status.in_(("succeeded", "failed", "cancelled")))).scalar()
        if done == len(pending[:500]):
            pending = pending[500:]
            continue
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} runs did not finish")
        time.sleep(0.01 if len(run_ids) == 1 else 0.1)


def _start_chain(services, record) -> str:
    return start_run(services.runs, services.dispatcher, workflow_id=record.id,
                     version_id=record.version_id, plan_settings={}, input={"n": 1})


def noop_throughput(messages: int, tmp: Path) -> float:
    """Messages/s a plain Dramatiq worker drains (enqueue to last ack)."""
    from dramatiq import Message
    from dramatiq.brokers.redis import RedisBroker

    namespace = f"bench-noop-{uuid.uuid4().hex[:6]}"
    proc = _start([sys.executable, str(ROOT / "bench/noop_worker.py"), REDIS_URL, namespace],
                  dict(os.environ), tmp / "noop.log")
    broker = RedisBroker(url=REDIS_URL, namespace=namespace, middleware=[])
    broker.declare_queue("noop")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        started = time.perf_counter()
        for _ in range(messages):
            broker.enqueue(Message(queue_name="noop", actor_name="noop", args=(), kwargs={},
                                   options={}))
        while client.hlen(f"{namespace}:noop.msgs") or client.llen(f"{namespace}:noop"):
            time.sleep(0.002)
        return messages / (time.perf_counter() - started)
    finally:
        _stop(proc)
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)


def redis_engine(database_url: str, tmp: Path, runs: int, batch: int) -> dict:
    namespace = f"bench-{uuid.uuid4().hex[:6]}"
    env = _env(database_url, str(tmp), namespace)
    services = build_services(load_settings(env))
    record = save_workflow(services.workflows, services.registry,
                           chain(f"bench-chain-{namespace}", CHAIN_LENGTH))
    worker = _start([sys.executable, "-m", "n8nclone.cli", "worker", "--threads", "8"], env,
                    tmp / "worker.log")
    try:
        _wait_all(services, [_start_chain(services, record) for _ in range(3)])  # warm up
        latencies = []
        for _ in range(runs):
            started = time.perf_counter()
            run_id = _start_chain(services, record)
            _wait_all(services, [run_id])
            latencies.append(time.perf_counter() - started)
        started = time.perf_counter()
        run_ids = [_start_chain(services, record) for _ in range(batch)]
        _wait_all(services, run_ids)
        elapsed = time.perf_counter() - started
    finally:
        _stop(worker)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)
    return {"median": statistics.median(latencies), "p90": sorted(latencies)[int(runs * .9) - 1],
            "steps_per_s": batch * (CHAIN_LENGTH + 1) / elapsed}


def embedded_engine(database_url: str, tmp: Path, batch: int) -> float:
    services = build_services(load_settings(_env(database_url, str(tmp), None)))
    record = save_workflow(services.workflows, services.registry,
                           chain(f"bench-embedded-{uuid.uuid4().hex[:6]}", CHAIN_LENGTH))
    runtime = WorkerRuntime(services, sweep=False).start()
    try:
        _wait_all(services, [_start_chain(services, record) for _ in range(3)])
        started = time.perf_counter()
        run_ids = [_start_chain(services, record) for _ in range(batch)]
        _wait_all(services, run_ids)
        return batch * (CHAIN_LENGTH + 1) / (time.perf_counter() - started)
    finally:
        runtime.stop()


def idle_up_memory(tmp: Path) -> float:
    """MB of resident memory of `n8nclone up` and all its child processes, idle."""
    port = 3900 + os.getpid() % 90
    env = _env(f"sqlite:///{tmp / 'up.db'}", str(tmp), None)
    log = tmp / "up.log"
    proc = subprocess.Popen([sys.executable, "-m", "n8nclone.cli", "up", "--port", str(port)],
                            env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, cwd=ROOT,
                            start_new_session=True)
    try:
        import httpx

        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"up did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        time.sleep(5)  # idle
        tree = [psutil.Process(proc.pid)] + psutil.Process(proc.pid).children(recursive=True)
        return sum(p.memory_info().rss for p in tree) / 2**20
    finally:
        _stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--skip-up", action="store_true", help="skip (d)")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        noop = noop_throughput(5000, tmp)
        rows.append(("baseline: no-op Dramatiq actor, Redis, 1 proc x 8 threads",
                     f"{noop:,.0f} msg/s", ""))
        databases = [("SQLite", lambda: (None, f"sqlite:///{tmp / 'bench.db'}"))]
        if args.postgres:
            databases.append(("PostgreSQL", create_postgres_database))
        for label, make in databases:
            pg_name, url = make()
            try:
                migrate(url)
                result = redis_engine(url, tmp, args.runs, args.batch)
                rows.append((f"(a) 40-node chain end-to-end, Redis + 1 worker, {label} "
                             f"(median of {args.runs})", f"{result['median']*1000:.0f} ms",
                             "< 400 ms"))
                rows.append((f"(b) step throughput, {args.batch} chains at once, {label}",
                             f"{result['steps_per_s']:,.0f} steps/s "
                             f"= {result['steps_per_s'] / noop:.2f} x no-op", ">= 1.00 x"))
                if label == "SQLite":
                    steps = embedded_engine(url, tmp, args.batch)
                    rows.append(("(c) checkpointed steps/s, embedded default (SQLite)",
                                 f"{steps:,.0f} steps/s", ">= 2,000"))
            finally:
                if pg_name:
                    drop_postgres_database(pg_name)
        if not args.skip_up:
            rows.append(("(d) resident memory of idle `n8nclone up` (all processes)",
                         f"{idle_up_memory(tmp):.0f} MB", "< 250 MB"))

    widths = [max(len(r[i]) for r in rows + [("benchmark", "result", "target")])
              for i in range(3)]
    print(f"| {'benchmark':<{widths[0]}} | {'result':<{widths[1]}} | {'target':<{widths[2]}} |")
    print(f"|{'-' * (widths[0] + 2)}|{'-' * (widths[1] + 2)}|{'-' * (widths[2] + 2)}|")
    for row in rows:
        print(f"| {row[0]:<{widths[0]}} | {row[1]:<{widths[1]}} | {row[2]:<{widths[2]}} |")


if __name__ == "__main__":
    main()
