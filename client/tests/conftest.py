"""A tiny stand-in gateway on loopback, scripted per test (no Django)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class StubGateway:
    def __init__(self):
        self.requests: list[dict] = []
        # Each answer: (status, payload, headers) or "drop" to close without answering.
        self.answers: list = []
        self.default = (201, {"accepted": 0}, {})
        self.routes: dict[str, tuple] = {}

    def answer_for(self, path: str):
        if path in self.routes:
            return self.routes[path]
        return self.answers.pop(0) if self.answers else self.default


@pytest.fixture
def stub():
    state = StubGateway()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers),
                 "body": body}
            )  # fmt: skip
            answer = state.answer_for(self.path)
            if answer == "drop":
                self.close_connection = True
                return
            status, payload, headers = answer
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
