"""Editor load time, printed as a table: how long Chromium takes to show the editor of a
workflow with 200 nodes (from navigation to every node drawn on the canvas), against the
same page with a 5-node workflow measured in the same run.

Starts the real app (`n8nclone up`) on a free port with a fresh SQLite database (a first
start on a port builds the frontend, ~30 s), logs in with a session cookie, and loads each
editor page `--loads` times in a fresh browser page (the first load, with a cold cache, is
reported apart).

Target: under 2 s for the 200-node workflow.

Usage: .venv/bin/python bench/editor.py [--nodes 200] [--loads 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import n8nclone_env  # noqa: E402
from n8nclone.auth import Accounts  # noqa: E402
from n8nclone.config import load_settings  # noqa: E402
from n8nclone.services import build_services  # noqa: E402
from n8nclone.store.migrate import migrate  # noqa: E402
from n8nclone.workflows import save_workflow  # noqa: E402
from tests.e2e.conftest import launch, pick_port, wait_until_healthy  # noqa: E402
from tests.utils.browser import chromium, log_in  # noqa: E402

PREFERRED_PORT = 3932


def chain(name: str, count: int) -> dict:
    """trigger.manual then `count - 1` data.set nodes in a grid, each fed by the last."""
    nodes = [{"key": "start", "type": "trigger.manual", "position": [0, 0]}]
    for i in range(1, count):
        nodes.append({"key": f"step_{i}", "type": "data.set",
                      "params": {"values": {"n": i, "from": "{{ input }}"}},
                      "position": [(i % 10) * 220, (i // 10) * 120]})
    edges = [{"from": a["key"], "to": b["key"]} for a, b in zip(nodes, nodes[1:], strict=False)]
    return {"name": name, "nodes": nodes, "edges": edges}


def load_times(browser, base_url: str, accounts, user, workflow_id: int, count: int,
               loads: int) -> list[float]:
    """Seconds from navigation to `count` nodes on the canvas, one fresh page per load."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    log_in(context, accounts, user, base_url)
    times = []
    try:
        for _ in range(loads):
            page = context.new_page()
            started = time.perf_counter()
            page.goto(f"{base_url}/workflows/{workflow_id}")
            page.wait_for_function(
                f"document.querySelectorAll('.react-flow__node').length >= {count}",
                timeout=60_000, polling="raf")
            times.append(time.perf_counter() - started)
            page.close()
    finally:
        context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp / 'bench.db'}"
        env = n8nclone_env(url, tmp, "", None)
        migrate(url)
        services = build_services(load_settings(env))
        accounts = Accounts(services.db)
        user = accounts.create_user("bench@example.com", "bench-password")
        small = save_workflow(services.workflows, services.registry, chain("small", 5))
        large = save_workflow(services.workflows, services.registry,
                              chain("large", args.nodes))
        app = launch(env, pick_port(PREFERRED_PORT))
        try:
            wait_until_healthy(app)
            with chromium() as browser:
                rows = []
                for label, record, count in (("5 nodes", small, 5),
                                             (f"{args.nodes} nodes", large, args.nodes)):
                    times = load_times(browser, app.base_url, accounts, user, record.id, count,
                                       args.loads + 1)
                    rows.append((label, times[0], statistics.median(times[1:]),
                                 max(times[1:])))
        finally:
            app.stop()

    baseline = rows[0][2]
    print(f"| editor page | first load | median of {args.loads} | max | vs 5 nodes "
          f"| target |")
    print("|---|---|---|---|---|---|")
    for label, first, median, worst in rows:
        target = "< 2 s" if label != "5 nodes" else ""
        print(f"| {label} | {first * 1000:,.0f} ms | {median * 1000:,.0f} ms | "
              f"{worst * 1000:,.0f} ms | {median / baseline:.2f} x | {target} |")


if __name__ == "__main__":
    main()
