"""`n8nclone up` end to end: one port serves the UI, Reflex's websocket, /api and /docs."""

from __future__ import annotations

import base64
import os
import socket
import time
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import RunningApp, launch, wait_until_healthy

pytestmark = pytest.mark.e2e

IDLE_RSS_LIMIT_MB = 250


def http_get(url: str) -> tuple[int, str]:
    """GET `url`; return status and body text."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode(errors="replace")


def websocket_handshake(base_url: str, path: str = "/_event/?EIO=4&transport=websocket") -> bytes:
    """Open a raw websocket to Reflex's event endpoint; return the first bytes after the 101."""
    parts = urlsplit(base_url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < 2:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data


def idle_rss_mb(app: RunningApp) -> tuple[float, list[str]]:
    """RSS sum (MB) over the `up` process tree, and a short description of each process."""
    procs = app.tree()
    described = [f"{p.pid} {p.name()} {p.memory_info().rss / 2**20:.0f} MB" for p in procs]
    return sum(p.memory_info().rss for p in procs) / 2**20, described


@pytest.fixture
def app() -> RunningApp:
    """A fresh app for this test (the test stops it itself)."""
    running = launch()
    wait_until_healthy(running)
    yield running
    running.stop()


def test_up_serves_everything_on_one_port_and_stops_cleanly(app: RunningApp) -> None:
    status, body = http_get(app.base_url + "/")
    assert status == 200
    assert "<title>n8nclone</title>" in body

    status, body = http_get(app.base_url + "/docs")
    assert status == 200 and "swagger" in body.lower()

    handshake = websocket_handshake(app.base_url)
    assert handshake.startswith(b"HTTP/1.1 101"), handshake[:200]
    assert b'"sid"' in handshake, handshake[:300]

    time.sleep(1)  # let the server settle before measuring idle memory
    rss, described = idle_rss_mb(app)
    names = " ".join(described)
    print(f"idle RSS {rss:.0f} MB: {described}")
    assert "node" not in names, f"node should not run in production: {described}"
    assert rss < IDLE_RSS_LIMIT_MB, f"idle RSS {rss:.0f} MB: {described}"

    tree = app.tree()
    assert len(tree) >= 2  # serve() and the server it started
    returncode = app.stop()
    assert returncode == 0, app.log_tail()
    assert not [p for p in app.known.values() if p.is_running() and p.status() != "zombie"]
