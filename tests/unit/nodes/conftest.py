"""Fixtures of the node tests: an OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.utils.openai_server import OpenAIServer


@pytest.fixture(scope="session")
def _session_openai_server() -> Iterator[OpenAIServer]:
    server = OpenAIServer().start()
    # A client that gave up (a timeout test) makes the handler's late write fail with a
    # broken pipe, which is expected: keep it off stderr.
    server._server.handle_error = lambda request, client_address: None
    yield server
    server.stop()


@pytest.fixture
def openai_server(_session_openai_server) -> OpenAIServer:
    """The shared server with no recorded requests, no scripted replies, default answer."""
    _session_openai_server.reset()
    return _session_openai_server
