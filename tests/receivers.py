"""Real alert receivers on loopback for tests: an HTTP receiver that can fail N times, and an SMTP server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HttpReceiver:
    def __init__(self, fail_first: int = 0, status: int = 503) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                receiver.attempts += 1
                if receiver.attempts <= receiver.fail_first:
                    self.send_response(status)
                    self.end_headers()
                    return
                try:
                    parsed: Any = json.loads(body)
                except ValueError:
                    parsed = None
                receiver.received.append(
                    {
                        "path": self.path,
                        "body": parsed,
                        "raw": body,
                        "content_type": self.headers.get("content-type", ""),
                        "headers": dict(self.headers),
                    }
                )
                self.send_response(202)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        return wait_for(
            lambda: self.received if len(self.received) >= count else None,
            timeout,
            f"{count} deliveries (got {len(self.received)})",
        )

    def close(self) -> None:
        self.server.shutdown()


class SmtpReceiver:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Message] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                receiver.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        import asyncio

        # A plain selector loop: trio-asyncio (used by the PostgreSQL adapter's tests in this process) replaces the
        # default asyncio policy, whose loops cannot run in another thread.
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, loop=asyncio.SelectorEventLoop())
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
