"""Webhook benchmark, printed as a table: requests/s, p50 and p99 latency and errors of a
5-node workflow (webhook, data.set, flow.if, data.set, webhook.respond) called over HTTP at
concurrency 1, 10 and 50, every step checkpointed.

Backends: the embedded default (`n8nclone up`: SQLite, in-process broker and workers), and
Redis (`n8nclone up` only enqueues; 2 `n8nclone worker` processes execute) on PostgreSQL
(or SQLite with --redis-db sqlite). Each starts the real app in a subprocess on a free
port (a first start on a port builds the frontend, ~25 s); the load comes from httpx on
asyncio, on loopback, with bounded request counts.

Usage: .venv/bin/python bench/webhooks.py [--requests 1000] [--concurrency 1,10,50]
       [--mode last_node] [--backends embedded,redis] [--redis-db postgres|sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import n8nclone_env  # noqa: E402
from tests.utils.databases import create_postgres_database, drop_postgres_database  # noqa: E402

N8NCLONE = [sys.executable, "-m", "n8nclone.cli"]
REDIS_URL = "redis://127.0.0.1:6379/10"
PREFERRED_PORT = 3931  # a fixed port keeps its frontend build between runs
EXPECTED = {"status": 200, "headers": {}, "body": {"order": 7, "size": "big"}}


def workflow(mode: str) -> dict:
    """webhook -> data.set -> flow.if -> data.set -> webhook.respond."""
    return {
        "name": f"bench-{mode}",
        "nodes": [
            {"key": "hook", "type": "trigger.webhook",
             "params": {"path": "bench", "method": "POST", "response_mode": mode}},
            {"key": "shape", "type": "data.set",
             "params": {"values": {"order": "{{ trigger.body.id }}",
                                   "total": "{{ trigger.body.total }}"}}},
            {"key": "check", "type": "flow.if", "params": {"condition": "{{ input.total > 100 }}"}},
            {"key": "big", "type": "data.set",
             "params": {"values": {"order": "{{ input.order }}", "size": "big"}}},
            {"key": "answer", "type": "webhook.respond",
             "params": {"status": 200, "body": "{{ input }}"}},
        ],
        "edges": [{"from": "hook", "to": "shape"}, {"from": "shape", "to": "check"},
                  {"from": "check", "port": "true", "to": "big"},
                  {"from": "big", "to": "answer"}],
    }


def expected_answer(mode: str) -> dict:
    return EXPECTED if mode == "last_node" else EXPECTED["body"]


# -- processes ----------------------------------------------------------------------------


def free_port(preferred: int) -> int:
    for candidate in (preferred, 0):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def base_env(database_url: str, data_dir: Path, namespace: str | None) -> dict[str, str]:
    return n8nclone_env(database_url, data_dir, REDIS_URL, namespace)


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen([*N8NCLONE, *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen, log: Path,
             timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def create_api_key(env: dict[str, str]) -> str:
    """An API key for the management API (`n8nclone api-key create`, on the app's database)."""
    result = subprocess.run([*N8NCLONE, "api-key", "create"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"api-key create failed:\n{result.stderr}")
    return result.stdout.strip()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


# -- load ---------------------------------------------------------------------------------


@dataclass
class Result:
    concurrency: int
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    error_samples: list[str]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000 if ordered else 0


async def load(url: str, mode: str, concurrency: int, requests: int) -> Result:
    """`requests` calls from `concurrency` clients at once; an error is anything but the
    expected status and body."""
    latencies: list[float] = []
    errors = 0
    samples: list[str] = []
    remaining = iter(range(requests))
    expected = expected_answer(mode)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for _ in remaining:
            started = time.perf_counter()
            try:
                response = await client.post(f"{url}/webhook/bench", json={"id": 7, "total": 250})
                ok = response.status_code == 200 and response.json() == expected
                problem = f"{response.status_code} {response.text[:200]}"
            except (httpx.HTTPError, ValueError) as exc:
                ok, problem = False, repr(exc)
            latencies.append(time.perf_counter() - started)
            if not ok:
                errors += 1
                samples.append(problem)

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return Result(concurrency, requests, seconds, latencies, errors, samples[:3])


def run_backend(label: str, env: dict[str, str], tmp: Path, workers: int, mode: str,
                levels: list[int], requests: int) -> list[tuple[str, Result]]:
    port = free_port(PREFERRED_PORT)
    url = f"http://127.0.0.1:{port}"
    procs = []
    try:
        for i in range(workers):
            log = tmp / f"worker-{i}.log"
            procs.append(spawn(["worker"], env, log))
            wait_for(lambda log=log: b"worker ready" in log.read_bytes(), procs[-1], log, 60,
                     "n8nclone worker")
        up_log = tmp / "up.log"
        procs.append(spawn(["up", "--port", str(port)], env, up_log))
        wait_for(lambda: healthy(url), procs[-1], up_log, 300, "n8nclone up")
        created = httpx.post(f"{url}/api/workflows", json=workflow(mode), timeout=30,
                             headers={"Authorization": f"Bearer {create_api_key(env)}"})
        created.raise_for_status()
        asyncio.run(load(url, mode, 10, 200))  # warm up: caches, connections, JIT-free paths
        rows = []
        for concurrency in levels:
            count = requests if concurrency > 1 else max(100, requests // 4)
            rows.append((label, asyncio.run(load(url, mode, concurrency, count))))
            if rows[-1][1].errors:  # what the server said about it
                for log in sorted(tmp.glob("*.log")):
                    tail = log.read_text(errors="replace").splitlines()[-15:]
                    print(f"--- {log.name}\n" + "\n".join(tail), flush=True)
        return rows
    finally:
        for proc in reversed(procs):
            stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000,
                        help="requests per concurrency level (a quarter at concurrency 1)")
    parser.add_argument("--concurrency", default="1,10,50")
    parser.add_argument("--mode", default="last_node", choices=("last_node", "respond_node"))
    parser.add_argument("--backends", default="embedded,redis")
    parser.add_argument("--redis-db", default="postgres", choices=("postgres", "sqlite"))
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    backends = args.backends.split(",")

    rows: list[tuple[str, Result]] = []
    if "embedded" in backends:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            env = base_env(f"sqlite:///{tmp / 'bench.db'}", tmp, None)
            rows += run_backend("embedded (SQLite)", env, tmp, 0, args.mode, levels,
                                args.requests)
    if "redis" in backends:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            namespace = f"bench-webhooks-{uuid.uuid4().hex[:6]}"
            pg_name, url = (create_postgres_database() if args.redis_db == "postgres"
                            else (None, f"sqlite:///{tmp / 'bench.db'}"))
            label = f"Redis + 2 workers ({'PostgreSQL' if pg_name else 'SQLite'})"
            try:
                rows += run_backend(label, base_env(url, tmp, namespace), tmp, 2, args.mode,
                                    levels, args.requests)
            finally:
                client = redis.Redis.from_url(REDIS_URL)
                for key in client.scan_iter(f"{namespace}*"):
                    client.delete(key)
                if pg_name:
                    drop_postgres_database(pg_name)
    print_table(rows, args.mode)


def print_table(rows: list[tuple[str, Result]], mode: str) -> None:
    header = ("backend", "mode", "concurrency", "requests", "req/s", "p50 ms", "p99 ms",
              "errors")
    lines = [header] + [(label, mode, str(r.concurrency), str(r.requests),
                         f"{r.per_second:,.0f}", f"{r.percentile(0.50):.1f}",
                         f"{r.percentile(0.99):.1f}", str(r.errors)) for label, r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
              + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for label, r in rows:
        for sample in r.error_samples:
            print(f"error ({label}, concurrency {r.concurrency}): {sample}")


if __name__ == "__main__":
    main()
