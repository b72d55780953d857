"""A real HTTP server on 127.0.0.1 whose answers tests script, counting every hit."""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: object = field(default_factory=lambda: {"ok": True})
    headers: dict = field(default_factory=dict)
    stall: threading.Event | None = None  # wait for this event before answering
    delay: float = 0.0


class ScriptedServer:
    """`script(path, Reply, ...)` queues replies for a path; the last one repeats."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.requests: list[dict] = []
        self._replies: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _handle(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                reply = server._record_and_pick(self.command, self.path, path,
                                                dict(self.headers), raw)
                if reply.stall is not None:
                    reply.stall.wait(60)
                if reply.delay:
                    threading.Event().wait(reply.delay)
                body = reply.body
                if not isinstance(body, (bytes, str)):
                    body = json.dumps(body)
                data = body.encode() if isinstance(body, str) else body
                self.send_response(reply.status)
                headers = {"content-type": "application/json"} | reply.headers
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)

    def _record_and_pick(self, method, full_path, path, headers, raw) -> Reply:
        with self._lock:
            self.hits[path] += 1
            self.requests.append({"method": method, "path": full_path, "headers": headers,
                                  "body": raw})
            queue = self._replies.get(path)
            if not queue:
                return Reply()
            return queue.popleft() if len(queue) > 1 else queue[0]

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._replies[path] = deque(replies)

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
