"""AI benchmark, printed as a table: the overhead of an `ai.prompt` step over a bare
`litellm.completion` call, both against the local OpenAI-compatible test server
(tests/utils/openai_server.py) on 127.0.0.1, so the model itself costs ~nothing and what
is left is litellm, the node and the engine.

Median per call of:
- a bare `litellm.completion` (model openai/gpt-4o-mini, api_base = the local server);
- `AiPrompt().execute` alone (the node: parameters, usage, cost; no engine);
- an `ai.prompt` step executed by the real engine on the embedded default (SQLite file,
  in-process broker and worker threads): the step row's started_at -> ended_at, and the
  whole run (trigger.manual -> ai.prompt) from `start_run` to seen succeeded.
Runs are started one at a time, each waited for.

Usage: .venv/bin/python bench/ai.py [--calls 200] [--runs 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import n8nclone_env  # noqa: E402
from n8nclone.config import load_settings  # noqa: E402
from n8nclone.engine.start import start_run  # noqa: E402
from n8nclone.nodes.ai_prompt import AiPrompt, load_litellm  # noqa: E402
from n8nclone.nodes.base import NodeContext  # noqa: E402
from n8nclone.services import build_services  # noqa: E402
from n8nclone.store.migrate import migrate  # noqa: E402
from n8nclone.store.models import Run, Step  # noqa: E402
from n8nclone.worker.runtime import WorkerRuntime  # noqa: E402
from n8nclone.workflows import save_workflow  # noqa: E402
from tests.utils.openai_server import OpenAIServer  # noqa: E402

MODEL = "openai/gpt-4o-mini"
PROMPT = "Say hello to Ada."
RUN, STEP = Run.__table__, Step.__table__


def median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def bare_calls(server: OpenAIServer, n: int) -> list[float]:
    litellm = load_litellm()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        litellm.completion(model=MODEL, api_base=server.api_base,
                           messages=[{"role": "user", "content": PROMPT}],
                           timeout=30, num_retries=0, max_retries=0)
        times.append(time.perf_counter() - started)
    return times


def node_calls(server: OpenAIServer, n: int) -> list[float]:
    params = AiPrompt.with_defaults({"model": MODEL, "api_base": server.api_base,
                                     "prompt": PROMPT})
    times = []
    for i in range(n):
        ctx = NodeContext(run_id="bench", workflow_id=1, node_key="ask", attempt=1,
                          trigger={"n": i})
        started = time.perf_counter()
        AiPrompt().execute(ctx, params)
        times.append(time.perf_counter() - started)
    return times


def engine_runs(server: OpenAIServer, n: int, tmp: Path) -> tuple[list[float], list[float]]:
    """(step started_at -> ended_at, start_run -> seen succeeded) of `n` runs, one at a
    time."""
    url = f"sqlite:///{tmp / 'ai.db'}"
    migrate(url)
    services = build_services(load_settings(n8nclone_env(url, tmp, "", None)))
    runtime = WorkerRuntime(services).start()
    try:
        record = save_workflow(services.workflows, services.registry, {
            "name": "bench-ai", "nodes": [
                {"key": "start", "type": "trigger.manual"},
                {"key": "ask", "type": "ai.prompt",
                 "params": {"model": MODEL, "api_base": server.api_base,
                            "prompt": "Say hello to {{ trigger.name }}."}}],
            "edges": [{"from": "start", "to": "ask"}]})
        run_times, run_ids = [], []
        for i in range(n):
            started = time.perf_counter()
            run_id = start_run(services.runs, services.dispatcher, workflow_id=record.id,
                               version_id=record.version_id, plan_settings={},
                               input={"name": f"Ada {i}"})
            deadline = started + 60
            while (status := services.runs.run_status(run_id)) != "succeeded":
                if status in ("failed", "cancelled") or time.perf_counter() > deadline:
                    raise RuntimeError(f"run {run_id} is {status}: "
                                       f"{services.run_queries.get_run(run_id)}")
                time.sleep(0.001)
            run_times.append(time.perf_counter() - started)
            run_ids.append(run_id)
        with services.db.read() as conn:
            rows = conn.execute(select(STEP.c.started_at, STEP.c.ended_at).where(
                STEP.c.run_id.in_(run_ids), STEP.c.node_key == "ask")).all()
        step_times = [(ended - started).total_seconds() for started, ended in rows]
        assert len(step_times) == n, f"{len(step_times)} step rows for {n} runs"
        return step_times, run_times
    finally:
        runtime.stop()


def print_table(rows: list[tuple[str, ...]]) -> None:
    header = ("measure (median per call)", "time", "overhead vs bare", "ratio")
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(len(header))]
    print("| " + " | ".join(f"{h:<{w}}" for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(f"{c:<{w}}" for c, w in zip(row, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="bare and node calls")
    parser.add_argument("--runs", type=int, default=100, help="engine runs, one at a time")
    args = parser.parse_args()
    # The local server takes any key; never send a real one there.
    os.environ["OPENAI_API_KEY"] = "sk-bench-local"

    server = OpenAIServer().start()
    try:
        print("warming up (imports, connections) ...", flush=True)
        bare_calls(server, 20)
        node_calls(server, 20)
        print(f"bare litellm.completion x {args.calls} ...", flush=True)
        bare = median_ms(bare_calls(server, args.calls))
        print(f"AiPrompt.execute x {args.calls} ...", flush=True)
        node = median_ms(node_calls(server, args.calls))
        print(f"engine runs x {args.runs} ...", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            step_times, run_times = engine_runs(server, args.runs, Path(tmp))
        step, run = median_ms(step_times), median_ms(run_times)
    finally:
        server.stop()

    def row(name: str, value: float) -> tuple[str, ...]:
        if value is bare:
            return (name, f"{value:.2f} ms", "", "1.00 x")
        return (name, f"{value:.2f} ms", f"{value - bare:+.2f} ms", f"{value / bare:.2f} x")

    print()
    print_table([
        row(f"bare litellm.completion ({args.calls} calls)", bare),
        row(f"AiPrompt.execute, no engine ({args.calls} calls)", node),
        row(f"ai.prompt step, step row started_at -> ended_at ({args.runs} runs)", step),
        row(f"whole run trigger -> ai.prompt, start_run -> succeeded ({args.runs} runs)", run),
    ])


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
