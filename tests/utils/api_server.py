"""Serve the API app over real HTTP on 127.0.0.1, bound to a test's services.

The management API needs a session or an API key: each server makes an API key on its
database, and `server.auth` (an httpx auth) sends it to `/api/*`.
"""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn

from n8nclone.api.app import build_api
from n8nclone.services import Services, get_services
from n8nclone.store.api_keys import ApiKeyStore


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ApiKeyAuth(httpx.Auth):
    """Sends `Authorization: Bearer <key>` to `/api/*` only (webhooks would record it in a
    run's input), and never over an Authorization header the test set itself."""

    def __init__(self, key: str):
        self.key = key

    def auth_flow(self, request: httpx.Request):
        if request.url.path.startswith("/api/") and "authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {self.key}"
        yield request


class ApiServer:
    def __init__(self, services: Services):
        _, self.api_key = ApiKeyStore(services.db).create()
        self.auth = ApiKeyAuth(self.api_key)
        api = build_api()
        api.dependency_overrides[get_services] = lambda: services
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(api, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> ApiServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("API server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
