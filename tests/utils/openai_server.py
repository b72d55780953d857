"""An OpenAI-compatible chat completions server on 127.0.0.1 that tests and benchmarks
script call by call: a normal answer (reply text, token counts), an error status (429 with
Retry-After, 500, 401, 400 ...), or a raw body such as malformed JSON. Every request's
body and headers are recorded.

    server = OpenAIServer().start()
    server.script(ChatReply(status=429, headers={"retry-after": "7"}), ChatReply(text="hi"))
    litellm.completion(model="openai/gpt-4o-mini", api_base=server.api_base, api_key="k", ...)
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error",
               403: "permission_denied", 404: "not_found", 429: "rate_limit_exceeded",
               500: "server_error", 503: "server_error"}


@dataclass
class ChatReply:
    """One scripted answer. `text` None: the server's default text. A `status` >= 400
    answers an OpenAI-style error object carrying `error`. `raw` (str or bytes) is sent
    as the body instead of anything built, e.g. malformed JSON."""

    status: int = 200
    text: str | None = None
    prompt_tokens: int = 12
    completion_tokens: int = 5
    headers: dict[str, str] = field(default_factory=dict)
    error: str = "scripted error"
    raw: str | bytes | None = None
    delay: float = 0.0  # seconds to wait before answering

    def body(self, model: str) -> bytes:
        if self.raw is not None:
            return self.raw.encode() if isinstance(self.raw, str) else self.raw
        if self.status >= 400:
            return json.dumps({"error": {
                "message": self.error, "type": ERROR_TYPES.get(self.status, "api_error"),
                "param": None, "code": str(self.status)}}).encode()
        return json.dumps({
            "id": f"chatcmpl-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": self.text}}],
            "usage": {"prompt_tokens": self.prompt_tokens,
                      "completion_tokens": self.completion_tokens,
                      "total_tokens": self.prompt_tokens + self.completion_tokens},
        }).encode()


class OpenAIServer:
    """Answers `POST /v1/chat/completions` (and `/chat/completions`). Scripted replies are
    used one per call, in order; when none is left, `default` answers."""

    def __init__(self, default_text: str = "Hello from the test server.") -> None:
        self._default_text = default_text
        self.default = ChatReply(text=default_text)
        self.requests: list[dict] = []  # {"path", "headers" (lower-case names), "body"}
        self._script: deque[ChatReply] = deque()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real API server
            # headers and body go out in two writes: without TCP_NODELAY the second
            # waits ~40 ms for the client's delayed ACK
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0].rstrip("/")
                if path not in ("/v1/chat/completions", "/chat/completions"):
                    self._send(404, b'{"error": {"message": "no such route"}}', {})
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = raw.decode(errors="replace")
                reply = server._record_and_pick(self.path, self.headers, body)
                if reply.delay:
                    time.sleep(reply.delay)
                text = reply.text if reply.text is not None else server.default.text
                reply = ChatReply(**{**reply.__dict__, "text": text})
                model = body.get("model", "unknown") if isinstance(body, dict) else "unknown"
                self._send(reply.status, reply.body(model), reply.headers)

            def do_GET(self):
                self._send(404, b'{"error": {"message": "no such route"}}', {})

            def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in ({"content-type": "application/json"} | headers).items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_base = f"{self.url}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True, name="openai-test-server")

    def _record_and_pick(self, path: str, headers, body) -> ChatReply:
        with self._lock:
            self.requests.append({"path": path, "body": body,
                                  "headers": {k.lower(): v for k, v in headers.items()}})
            return self._script.popleft() if self._script else self.default

    def script(self, *replies: ChatReply) -> None:
        """Answer the next calls with `replies`, in order (then the default again)."""
        with self._lock:
            self._script = deque(replies)

    def reset(self) -> None:
        """Forget recorded requests and scripted replies; the default answers."""
        with self._lock:
            self.requests.clear()
            self._script.clear()
            self.default = ChatReply(text=self._default_text)

    @property
    def calls(self) -> int:
        return len(self.requests)

    def start(self) -> OpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
