"""Loopback servers that misbehave the way production servers do.

- ``StuckServer``: accepts TCP connections and never answers (a hung proxy or backend).
- ``FailingProxy``: forwards every request to a real CalDAV server, except PUT/DELETE of
  the object names in ``fail_names``, which it answers ``500`` every time (a server whose
  own copy of one object makes every write of it fail).
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.sync.servers import HOST


class StuckServer:
    """Listen on a loopback port; accept and hold connections without a byte of answer."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((HOST, 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        """Return the server root URL."""
        return f"http://{HOST}:{self.port}/"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)

    def close(self) -> None:
        """Stop accepting and drop every held connection."""
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self._sock.close()


class FailingProxy:
    """Forward to ``upstream``; answer 500 to writes of the names in ``fail_names``."""

    def __init__(self, upstream: str, fail_names: set[str]) -> None:
        self.upstream = upstream.rstrip("/")
        self.fail_names = fail_names
        self.failed_writes = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                name = self.path.rsplit("/", 1)[-1]
                if self.command in ("PUT", "DELETE") and name in proxy.fail_names:
                    proxy.failed_writes += 1
                    reply = b"internal error: scheduling copy is in the way"
                    self.send_response(500)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                    return
                skip = {"host", "content-length", "connection", "accept-encoding"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                answer = httpx.request(
                    self.command, proxy.upstream + self.path, headers=headers, content=body,
                    timeout=30,
                )  # fmt: skip
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection",
                                           "content-encoding"):  # fmt: skip
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_OPTIONS = _any

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        """Return the proxy's root URL."""
        return f"http://{HOST}:{self.port}/"

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
