"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.utils.api_server import ApiServer


@pytest.fixture
def api(embedded) -> Iterator[httpx.Client]:
    """A client of the API served over HTTP, with an API key; any 5xx answer in a test
    fails it."""
    server_errors: list[str] = []

    def note_server_error(response: httpx.Response) -> None:
        if response.status_code >= 500:
            server_errors.append(f"{response.request.method} {response.request.url} "
                                 f"-> {response.status_code}")

    server = ApiServer(embedded).start()
    with httpx.Client(base_url=server.url, timeout=30, auth=server.auth,
                      event_hooks={"response": [note_server_error]}) as client:
        yield client
    server.stop()
    assert server_errors == [], "the API answered with a server error"
