"""A test-only ClickHouse HTTP front for the embedded chDB engine.

chDB can be opened by one process only, so two proxy replicas cannot share an embedded ClickHouse. This front serves
the part of ClickHouse's HTTP interface that clickhouse-connect uses (queries in the body with a ``FORMAT`` clause,
``param_*`` bind parameters, ``INSERT ... FORMAT Native`` with the data after the statement) from one chDB session,
one query at a time, so several processes can share one real ClickHouse engine over HTTP.
Run: ``python -m tests.clickhouse_front PATH PORT``.
"""

from __future__ import annotations

import re
import sys
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from chdb import session as chdb_session

FORMAT_RE = re.compile(r"\s+FORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)


def serve(path: str, port: int) -> None:
    engine = chdb_session.Session(path)
    lock = threading.Lock()
    spool = Path(tempfile.mkdtemp(prefix="chfront-"))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, body: bytes, fmt: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-ClickHouse-Server-Display-Name", "chdb-front")
            if fmt:
                self.send_header("X-ClickHouse-Format", fmt)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            body = self._read_body()
            if url.path in ("/ping", "/") and not body and "query" not in params:
                self._answer(200, b"Ok.\n")
                return
            query = params.get("query", "")
            bind = {k[len("param_") :]: v for k, v in params.items() if k.startswith("param_")}
            try:
                with lock:
                    if body.lstrip()[:6].upper() == b"INSERT" or query.lstrip()[:6].upper() == "INSERT":
                        self._insert(query, body)
                        self._answer(200, b"")
                        return
                    sql = (query + "\n" + body.decode()) if query and body else (query or body.decode())
                    match = FORMAT_RE.search(sql)
                    fmt = match.group(1) if match else "TabSeparated"
                    if match:
                        sql = sql[: match.start()]
                    result = engine.query(sql, fmt, params=bind) if bind else engine.query(sql, fmt)
                    self._answer(200, result.bytes() if hasattr(result, "bytes") else bytes(result), fmt)
            except Exception as exc:  # noqa: BLE001 - reported like ClickHouse does: HTTP 500 with the text
                self._answer(500, f"Code: 1000. DB::Exception: {exc}\n".encode())

        def _read_body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(parts)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _insert(self, query: str, body: bytes) -> None:
            if query:
                statement, data = query, body
            else:
                head, _, data = body.partition(b"\n")
                statement = head.decode()
            match = re.match(r"\s*INSERT\s+INTO\s+(\S+)\s*(\([^)]*\))?\s*FORMAT\s+(\w+)", statement, re.IGNORECASE)
            if match is None:
                raise ValueError(f"unsupported insert: {statement[:200]}")
            table, columns, fmt = match.group(1), match.group(2) or "", match.group(3)
            file = spool / f"{threading.get_ident()}.{fmt.lower()}"
            file.write_bytes(data)
            engine.query(f"INSERT INTO {table} {columns} SELECT * FROM file('{file}', '{fmt}')", "TabSeparated")

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"chdb front on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
