"""A lean HTTP/1.1 load generator for ``just bench hop``'s concurrency phase, so the client is not the bottleneck.

httpx under trio used 90-93% of a core to drive 32 concurrent streams on this 2-core machine, so the measured ratio
said as much about the client as about the proxy. This one is standard-library asyncio with keep-alive connections,
pre-encoded requests and a parser that knows only what the two servers send (``Content-Length`` or chunked bodies);
each request's prompt is still distinct. A response that is not 200, or a broken connection, counts as an error (the
connection is opened again).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import urllib.parse

_COUNTER = itertools.count()


def _request(host: str, path: str, stream: bool) -> bytes:
    prompt = f"Benchmark prompt number {next(_COUNTER)}: summarise the notes in three bullet points, please."
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
    if stream:
        body["stream"] = True
    data = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
        f"authorization: Bearer bench\r\ncontent-length: {len(data)}\r\n\r\n"
    ).encode() + data


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF (the last: the final CRLF)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _run(base: str, total: int, concurrency: int, stream: bool) -> tuple[float, int]:
    url = urllib.parse.urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    path = "/v1/chat/completions"
    remaining = total
    errors = 0

    async def worker() -> None:
        nonlocal remaining, errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while remaining > 0:
                remaining -= 1
                try:
                    writer.write(_request(f"{host}:{port}", path, stream))
                    if await _read_response(reader) != 200:
                        errors += 1
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started), errors


def load(base: str, total: int, concurrency: int, stream: bool) -> tuple[float, int]:
    """Requests per second and errors for ``total`` requests over ``concurrency`` keep-alive connections."""
    return asyncio.run(_run(base, total, concurrency, stream))
