"""A minimal OpenAI-shaped upstream for measuring the hop: as little work per request as an HTTP server can do.

Standard library only (asyncio streams, HTTP/1.1 keep-alive, a hand-written parser): ``POST .../chat/completions``
answers one fixed completion, or, when the body asks for ``"stream": true``, a fixed SSE stream of 8 chunks
(chunked transfer encoding). ``GET /_stats`` reports the CPU seconds the server has used and the requests served, so
the benchmark can say what the upstream itself costs. Run: ``python -m bench.minimal_upstream PORT``.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-min",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13},
    }
).encode()
CHUNKS = [
    b"data: "
    + json.dumps(
        {
            "id": "chatcmpl-min",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}],
        }
    ).encode()
    + b"\n\n"
    for i in range(8)
] + [b"data: [DONE]\n\n"]
served = 0


def chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global served
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            method, path, _ = lines[0].split(b" ", 2)
            length = 0
            for line in lines[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length) if length else b""
            served += 1
            if method == b"GET" and path == b"/_stats":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                payload = json.dumps({"cpu_s": usage.ru_utime + usage.ru_stime, "requests": served}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                             % (len(payload), payload))  # fmt: skip
            elif b'"stream": true' in body or b'"stream":true' in body:
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                )
                for chunk in CHUNKS:
                    writer.write(chunked(chunk))
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                             % (len(COMPLETION), COMPLETION))  # fmt: skip
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
