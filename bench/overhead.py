"""``just bench overhead``: what the proxy adds, measured against a direct call in the same run.

Starts the shipped mock upstream and the proxy (lite profile, capture and storage running) as separate processes,
then sends the same request sequence direct to the mock and through the proxy, interleaved so that both see the
same machine state: non-streaming and streaming, sequentially and at concurrency 32. Prints added latency p50/p99,
added time to first token, and throughput relative to direct, and writes the numbers to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import start_mock, start_proxy

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Benchmark prompt, please answer."}]}
STREAM = {**CHAT, "stream": True}
# About 2 KB of prompt holding three values to protect (an email, a card number, an API key).
PROTECTED_PROMPT = (
    "Please review the following support conversation and draft a short, polite answer. " * 8
    + "The customer wrote from maria.lopez@acme-corp.io and paid with 4556 7375 8689 9855. "
    + "Their integration uses sk-proj-Xa81bQm2Lp9Zr4Tt7Yw3Ue6Io0Pa5Sd8Fg1Hj2Kl, which they pasted by mistake. "
    + "Keep the answer under one hundred words and do not repeat any personal data back to them. " * 8
)
PROTECTED_CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROTECTED_PROMPT}]}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def sequential(
    client: httpx.Client, direct: str, proxy: str, n: int, stream: bool, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    chat = payload or CHAT
    streamed = {**chat, "stream": True}
    lat: dict[str, list[float]] = {"direct": [], "proxy": []}
    ttft: dict[str, list[float]] = {"direct": [], "proxy": []}
    for i in range(n + 20):
        for name, base in (
            (("direct", direct), ("proxy", proxy)) if i % 2 == 0 else (("proxy", proxy), ("direct", direct))
        ):
            started = time.perf_counter()
            if stream:
                first = None
                with client.stream("POST", f"{base}/v1/chat/completions", json=streamed) as response:
                    for line in response.iter_lines():
                        if first is None and '"content": "mock' in line:
                            first = time.perf_counter() - started
                    assert response.status_code == 200
                total = time.perf_counter() - started
                if i >= 20:
                    ttft[name].append((first or total) * 1000)
                    lat[name].append(total * 1000)
            else:
                response = client.post(f"{base}/v1/chat/completions", json=chat)
                assert response.status_code == 200
                if i >= 20:  # warm-up excluded
                    lat[name].append((time.perf_counter() - started) * 1000)
    result: dict[str, Any] = {}
    for name in ("direct", "proxy"):
        result[name] = {"p50_ms": statistics.median(lat[name]), "p99_ms": pct(lat[name], 99)}
        if stream:
            result[name]["ttft_p50_ms"] = statistics.median(ttft[name])
            result[name]["ttft_p99_ms"] = pct(ttft[name], 99)
    result["added_p50_ms"] = result["proxy"]["p50_ms"] - result["direct"]["p50_ms"]
    result["added_p99_ms"] = result["proxy"]["p99_ms"] - result["direct"]["p99_ms"]
    if stream:
        result["added_ttft_p50_ms"] = result["proxy"]["ttft_p50_ms"] - result["direct"]["ttft_p50_ms"]
        result["added_ttft_p99_ms"] = result["proxy"]["ttft_p99_ms"] - result["direct"]["ttft_p99_ms"]
    return result


async def _concurrent(base: str, total: int, concurrency: int, stream: bool) -> dict[str, Any]:
    errors = 0
    latencies: list[float] = []
    remaining = total
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                try:
                    if stream:
                        async with client.stream("POST", f"{base}/v1/chat/completions", json=STREAM) as response:
                            async for _ in response.aiter_bytes():
                                pass
                            ok = response.status_code == 200
                    else:
                        response = await client.post(f"{base}/v1/chat/completions", json=CHAT)
                        ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if not ok:
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for _ in range(concurrency):
                nursery.start_soon(worker)
        elapsed = time.perf_counter() - started
    return {
        "rps": total / elapsed,
        "errors": errors,
        "p50_ms": statistics.median(latencies),
        "p99_ms": pct(latencies, 99),
    }


def concurrent(direct: str, proxy: str, total: int, concurrency: int, stream: bool) -> dict[str, Any]:
    # Run each side twice, alternating, and keep the better run of each (the box is shared and noisy).
    runs: dict[str, list[dict[str, Any]]] = {"direct": [], "proxy": []}
    for _ in range(2):
        runs["direct"].append(trio.run(_concurrent, direct, total, concurrency, stream))
        runs["proxy"].append(trio.run(_concurrent, proxy, total, concurrency, stream))
    result = {name: max(r, key=lambda x: x["rps"]) for name, r in runs.items()}
    result["errors"] = sum(r["errors"] for rs in runs.values() for r in rs)
    result["throughput_vs_direct"] = result["proxy"]["rps"] / result["direct"]["rps"]
    return result


def streaming_analysis_cost(client: httpx.Client, direct: str, plain: str, guarded: str, n: int) -> dict[str, Any]:
    """Streams of 200 tokens: time to first token and total, direct vs proxy vs proxy with streaming analysis on."""
    headers = {"x-mock-tokens": "200"}
    ttft: dict[str, list[float]] = {"direct": [], "proxy": [], "guarded": []}
    total: dict[str, list[float]] = {"direct": [], "proxy": [], "guarded": []}
    chunks = 0
    for i in range(n + 10):
        for name, base in (("direct", direct), ("proxy", plain), ("guarded", guarded)):
            started = time.perf_counter()
            first = None
            count = 0
            with client.stream("POST", f"{base}/v1/chat/completions", json=STREAM, headers=headers) as response:
                for line in response.iter_lines():
                    if line.startswith("data: {"):
                        count += 1
                        if first is None and '"content": "mock' in line:
                            first = time.perf_counter() - started
            if i >= 10:
                ttft[name].append((first or 0) * 1000)
                total[name].append((time.perf_counter() - started) * 1000)
                chunks = count
    result: dict[str, Any] = {"chunks_per_stream": chunks}
    for name in ttft:
        result[name] = {"ttft_p50_ms": statistics.median(ttft[name]), "total_p50_ms": statistics.median(total[name])}
    result["analysis_added_ttft_p50_ms"] = result["guarded"]["ttft_p50_ms"] - result["proxy"]["ttft_p50_ms"]
    added_total = result["guarded"]["total_p50_ms"] - result["proxy"]["total_p50_ms"]
    result["analysis_added_total_p50_ms"] = added_total
    result["analysis_cost_per_chunk_us"] = added_total / max(chunks, 1) * 1000
    return result


def profile(n: int, rules_only: bool, concurrency: int = 1) -> int:
    """The proxy under cProfile while it serves ``n`` non-streaming requests, one at a time or ``concurrency`` at once
    (py-spy is not a dependency; cProfile slows Python code down, so read the shares, not the absolute times)."""
    import pstats

    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    stats_path = results / "overhead-profile.pstats"
    tmp = Path(tempfile.mkdtemp(prefix="llmtrace-profile-"))
    mock = start_mock(tmp)
    proxy = start_proxy(
        tmp,
        mock.url,
        {"logging": {"level": "warn"}, "security_analysis": {"ml_enabled": not rules_only}},
        env={"LLMTRACE_PROFILE_OUT": str(stats_path)},
    )
    try:
        if concurrency > 1:
            from bench.load_client import load

            _, errors = load(proxy.url, n, concurrency, False)
            assert errors == 0, f"{errors} requests failed under the profiler"
        else:
            with httpx.Client(timeout=30) as client:
                for _ in range(n):
                    assert client.post(f"{proxy.url}/v1/chat/completions", json=CHAT).status_code == 200
    finally:
        proxy.process.stop()
        mock.process.stop()
    text = results / "overhead-profile.txt"
    with text.open("w") as handle:
        stats = pstats.Stats(str(stats_path), stream=handle)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
    how = "sequential" if concurrency <= 1 else f"concurrency {concurrency}"
    print(f"profile of {n} requests ({how}): {stats_path} (snakeviz/pstats) and {text}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench overhead")
    parser.add_argument("-n", type=int, default=500, help="sequential requests per side")
    parser.add_argument("--total", type=int, default=2000, help="requests per side at concurrency")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", default="bench/results/overhead.json")
    parser.add_argument("--rules-only", action="store_true", help="security analysis without the ML models")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="only profile the proxy (cProfile) over the sequential non-streaming case (--profile-concurrency N: N at "
        "once); write bench/results/overhead-profile.{pstats,txt}",
    )
    parser.add_argument("--profile-concurrency", type=int, default=1, help="requests in flight while profiling")
    args = parser.parse_args(argv)
    if args.profile:
        return profile(args.n, args.rules_only, args.profile_concurrency)
    tmp = Path(tempfile.mkdtemp(prefix="llmtrace-bench-"))
    mock = start_mock(tmp)
    # Product defaults: capture, storage and the security analysis with the ML ensemble all running.
    ml = {"ml_enabled": not args.rules_only}
    proxy = start_proxy(tmp, mock.url, {"logging": {"level": "warn"}, "security_analysis": ml})
    # The same proxy with a rate limit and cost caps that never refuse, to price the checks themselves.
    controlled = start_proxy(
        tmp,
        mock.url,
        {
            "logging": {"level": "warn"},
            "security_analysis": ml,
            "rate_limiting": {"enabled": True, "requests_per_second": 1_000_000, "burst_size": 1_000_000},
            "cost_caps": {
                "enabled": True,
                "default_budget_caps": [
                    {"window": "hourly", "hard_limit_usd": 1e9, "soft_limit_usd": 1e8},
                    {"window": "monthly", "hard_limit_usd": 1e9},
                ],
                "default_token_cap": {"max_prompt_tokens": 100_000, "max_completion_tokens": 100_000},
            },
        },
    )
    # The same proxy pseudonymising before forwarding, to price data protection on a 2 KB prompt with three values.
    protected = start_proxy(
        tmp,
        mock.url,
        {"logging": {"level": "warn"}, "security_analysis": ml, "data_protection": {"mode": "pseudonymise"}},
    )
    guarded = start_proxy(
        tmp,
        mock.url,
        {
            "logging": {"level": "warn"},
            "streaming_analysis": {
                "enabled": True,
                "output_enabled": True,
                "token_interval": 50,
                "early_stop_on_critical": True,
            },
            "output_safety": {"enabled": True, "toxicity_enabled": True},
        },
    )
    try:
        with httpx.Client(timeout=30) as client:
            results: dict[str, Any] = {
                "sequential_non_streaming": sequential(client, mock.url, proxy.url, args.n, False),
                "sequential_streaming": sequential(client, mock.url, proxy.url, args.n // 2, True),
            }
            # Interleaved proxy vs proxy-with-controls: "added" here is what the rate limit and caps cost.
            results["traffic_controls"] = sequential(client, proxy.url, controlled.url, args.n, False)
            # Interleaved proxy vs proxy-with-pseudonymisation, on the 2 KB prompt.
            results["data_protection"] = {
                "non_streaming": sequential(client, proxy.url, protected.url, args.n, False, PROTECTED_CHAT),
                "streaming": sequential(client, proxy.url, protected.url, args.n // 2, True, PROTECTED_CHAT),
            }
            results["streaming_analysis"] = streaming_analysis_cost(
                client, mock.url, proxy.url, guarded.url, args.n // 2
            )
        results["concurrent_non_streaming"] = concurrent(mock.url, proxy.url, args.total, args.concurrency, False)
        results["concurrent_streaming"] = concurrent(mock.url, proxy.url, args.total // 2, args.concurrency, True)
        health = httpx.get(f"{proxy.url}/health").json()
        results["proxy_pipeline_after_run"] = health["pipeline"]
    finally:
        proxy.process.stop()
        controlled.process.stop()
        protected.process.stop()
        guarded.process.stop()
        mock.process.stop()
    s, st = results["sequential_non_streaming"], results["sequential_streaming"]
    c, cs = results["concurrent_non_streaming"], results["concurrent_streaming"]
    print(
        f"sequential non-streaming ({args.n}/side): direct p50 {s['direct']['p50_ms']:.2f} ms p99 "
        f"{s['direct']['p99_ms']:.2f} | proxy p50 {s['proxy']['p50_ms']:.2f} p99 {s['proxy']['p99_ms']:.2f} | "
        f"added p50 {s['added_p50_ms']:.2f} ms, p99 {s['added_p99_ms']:.2f} ms"
    )
    print(
        f"sequential streaming ({args.n // 2}/side): added total p50 {st['added_p50_ms']:.2f} ms p99 "
        f"{st['added_p99_ms']:.2f} ms | added TTFT p50 {st['added_ttft_p50_ms']:.2f} ms p99 "
        f"{st['added_ttft_p99_ms']:.2f} ms"
    )
    print(
        f"concurrency {args.concurrency} non-streaming: direct {c['direct']['rps']:.0f} rps, proxy "
        f"{c['proxy']['rps']:.0f} rps ({c['throughput_vs_direct']:.0%} of direct), errors {c['errors']}"
    )
    print(
        f"concurrency {args.concurrency} streaming: direct {cs['direct']['rps']:.0f} rps, proxy "
        f"{cs['proxy']['rps']:.0f} rps ({cs['throughput_vs_direct']:.0%} of direct), errors {cs['errors']}"
    )
    tc = results["traffic_controls"]
    print(
        f"rate limit + cost caps on (vs the same proxy without): added p50 {tc['added_p50_ms']:.2f} ms, "
        f"p99 {tc['added_p99_ms']:.2f} ms"
    )
    dp, dps = results["data_protection"]["non_streaming"], results["data_protection"]["streaming"]
    print(
        f"pseudonymisation on a 2 KB prompt with 3 values (vs the same proxy without): added p50 "
        f"{dp['added_p50_ms']:.2f} ms, p99 {dp['added_p99_ms']:.2f} ms; streaming TTFT p50 "
        f"{dps['added_ttft_p50_ms']:.2f} ms"
    )
    print(f"pipeline after the run: {json.dumps(results['proxy_pipeline_after_run'])}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"written to {out}")
    if args.out == parser.get_default("out"):
        # The history the regression guard reads (`just bench compare`): one file per run, never overwritten.
        history = out.parent / "overhead-history"
        history.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        (history / f"{stamp}{'-rules' if args.rules_only else ''}.json").write_text(json.dumps(results, indent=2))
        from bench.compare import compare_last

        compare_last(history, rules_only=args.rules_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
