"""``just bench stack_ceiling``: the most any proxy built on this stack could serve at concurrency.

The user's design card fixes the proxy's server stack (hypercorn on trio). This benchmark serves a raw ASGI app on that
stack which answers the fixed completion of ``bench.minimal_upstream`` at once: no routing, no forwarding, no upstream
call, no capture. Its throughput at concurrency 32 is an upper bound for the proxy, which must do all of that and also
be an HTTP client. Both servers are driven by ``bench.load_client`` in interleaved rounds, and the ratio is the one
issue 20's target is stated in (``throughput_vs_direct``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.load_client import load
from bench.minimal_upstream import COMPLETION
from tests.conftest import Process, free_port, wait_http

HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(COMPLETION)).encode())]
RESULTS = Path(__file__).resolve().parent / "results"


async def fixed_reply(scope, receive, send):  # type: ignore[no-untyped-def]
    """The least an ASGI app can do for a POST: read the body, answer the fixed completion."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": COMPLETION})


def serve(port: int) -> None:
    import trio
    from hypercorn.config import Config
    from hypercorn.trio import serve as hypercorn_serve

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    trio.run(hypercorn_serve, fixed_reply, config)


def main() -> None:
    parser = argparse.ArgumentParser(prog="just bench stack_ceiling")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--total", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    tmp = Path(tempfile.mkdtemp(prefix="llmtrace-ceiling-"))
    up_port, stack_port = free_port(), free_port()
    upstream = Process([sys.executable, "-m", "bench.minimal_upstream", str(up_port)], None, tmp / "up.log", cwd=root)
    stack = Process([sys.executable, "-m", "bench.stack_ceiling", "--serve", str(stack_port)], None, tmp / "stack.log",
                    cwd=root)  # fmt: skip
    direct, bare = f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{stack_port}"
    try:
        wait_http(f"{direct}/_stats")
        wait_http(f"{bare}/v1/chat/completions", expect=None)
        direct_rps, stack_rps, errors = [], [], 0
        for _ in range(args.rounds):
            rps, failed = load(direct, args.total, args.concurrency, False)
            direct_rps.append(rps)
            errors += failed
            rps, failed = load(bare, args.total, args.concurrency, False)
            stack_rps.append(rps)
            errors += failed
    finally:
        stack.stop()
        upstream.stop()
    ratios = [s / d for s, d in zip(stack_rps, direct_rps, strict=True)]
    result = {
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "direct_rps": round(statistics.median(direct_rps), 1),
        "bare_hypercorn_trio_rps": round(statistics.median(stack_rps), 1),
        "ceiling_throughput_vs_direct": {
            "median": round(statistics.median(ratios), 4),
            "min": round(min(ratios), 4),
            "max": round(max(ratios), 4),
        },
        "errors": errors,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(
        f"c{args.concurrency}: minimal upstream {result['direct_rps']:.0f} requests/s, bare hypercorn+trio fixed reply "
        f"{result['bare_hypercorn_trio_rps']:.0f} requests/s: ceiling "
        f"{result['ceiling_throughput_vs_direct']['median']:.3f} of direct (errors {errors})"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stack_ceiling.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]))
    else:
        main()
