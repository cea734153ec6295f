"""A file server on the loopback address for remote-input tests: range requests, a request log, a no-range mode.

The standard library's SimpleHTTPRequestHandler ignores ``Range``; this one answers it (206 with
Content-Range), and answers HEAD. Paths ``/BUCKET/KEY`` map to files under the served folder, so the same
server also stands in for an S3 endpoint in path style (pyarrow's S3 client sends HEAD, then ranged GETs).
"""

from __future__ import annotations

import email.utils
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _target(self) -> Path | None:
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        path = (self.server.root / rel).resolve()
        if self.server.root not in path.parents or not path.is_file():
            return None
        return path

    def _send(self, head_only: bool) -> None:
        path = self._target()
        rng = self.headers.get("Range")
        self.server.log.append((self.command, self.path, rng))
        if path is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = path.stat().st_size
        start, stop, status = 0, size, 200
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
        if m and self.server.ranges:
            start = int(m.group(1))
            stop = min(size, int(m.group(2)) + 1) if m.group(2) else size
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        with path.open("rb") as f:  # only the bytes asked for
            f.seek(start)
            body = f.read(stop - start) if not head_only else b""
        self.server.sent.append(len(body))
        self.send_response(status)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{size}")
        if self.server.ranges:
            self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(stop - start))
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Last-Modified", email.utils.formatdate(path.stat().st_mtime, usegmt=True))
        self.send_header("ETag", f'"{size}"')
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(head_only=False)

    def do_HEAD(self) -> None:
        self._send(head_only=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, ranges: bool):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root.resolve()
        self.ranges = ranges
        self.log: list[tuple[str, str, str | None]] = []
        self.sent: list[int] = []


class LoopbackServer:
    """Serve ``root`` on 127.0.0.1 at a free port in a thread: ``with LoopbackServer(dir) as srv: srv.url(...)``."""

    def __init__(self, root: Path, ranges: bool = True):
        self.httpd = _Server(root, ranges)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def log(self) -> list[tuple[str, str, str | None]]:
        return self.httpd.log

    @property
    def sent(self) -> list[int]:
        return self.httpd.sent

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
