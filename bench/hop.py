"""``just bench hop``: what the proxy's hop costs, measured so the result does not depend on the upstream or the day.

- The upstream is ``bench.minimal_upstream`` (a fixed answer, standard library only); its own CPU per request is
  measured and reported, so "direct" is known to be cheap.
- Two proxies as a user runs them: the rules-only analysis, and every default on (ML post-hoc analysis, storage).
- Sequential calls (non-streaming, and streaming with time to first token) interleave direct and both proxies request
  by request (the order rotates), in ``--rounds`` rounds; each figure is the median of the rounds' p50 (or p99) with
  its spread (min-max).
- Concurrency 32: direct and each proxy alternate for ``--rounds`` rounds; throughput is the median ratio. The load
  comes from ``bench.load_client`` (standard-library asyncio): the httpx client used before spent 5 ms of CPU a
  request and capped the direct side at about 150 requests per second, so the old ratios measured the client.
- The machine's condition is recorded: a fixed pure-Python calibration before and after, and the share of CPU time
  the hypervisor stole during the run (this is a shared virtual machine; its speed moves by half from hour to hour).
- The client's CPU share of a core is reported for each phase (the client must not be the bottleneck), and the
  proxy's CPU per request (from /proc).

Results: ``bench/results/hop.json``, with the targets of the issue beside the figures; a default run also joins
``bench/results/hop-history/`` and prints the change against the previous run (``just bench compare --hop``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.compare import HOP_HISTORY, compare_last
from bench.load_client import load
from tests.conftest import Process, free_port, start_proxy, wait_http

PROMPTS = itertools.count()


def chat(stream: bool = False) -> dict[str, Any]:
    """A request whose prompt is new each time, as in real traffic: the ensemble keeps recent verdicts, and a prompt
    it has seen costs nothing to analyse, which would make "every default on" look free."""
    prompt = f"Benchmark prompt number {next(PROMPTS)}: summarise the notes in three bullet points, please."
    body: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
    return {**body, "stream": True} if stream else body


DEFAULT_OUT = "bench/results/hop.json"
TICKS = os.sysconf("SC_CLK_TCK")
TARGETS = {"added_p50_ms": 1.5, "added_p99_ms": 4.0, "added_ttft_p50_ms": 1.5, "throughput_vs_direct": 0.7}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def calibration_ms() -> float:
    """A fixed piece of pure-Python work, best of five: how fast this (shared, virtual) machine runs right now. A run
    whose figures moved while this moved by as much says more about the machine than about the proxy."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for i in range(200_000):
            total += i % 7
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 2)


def cpu_times() -> tuple[int, int]:
    """(all jiffies, stolen jiffies) of this machine, from /proc/stat: steal is time the hypervisor gave elsewhere."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields[:8]), fields[7]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def one_call(client: httpx.Client, base: str, stream: bool) -> tuple[float, float]:
    started = time.perf_counter()
    if not stream:
        response = client.post(f"{base}/v1/chat/completions", json=chat())
        assert response.status_code == 200
        elapsed = time.perf_counter() - started
        return elapsed * 1000, elapsed * 1000
    first = None
    with client.stream("POST", f"{base}/v1/chat/completions", json=chat(stream=True)) as response:
        for line in response.iter_lines():
            if first is None and '"content": "tok' in line:
                first = time.perf_counter() - started
        assert response.status_code == 200
    total = time.perf_counter() - started
    return total * 1000, (first or total) * 1000


def sequential(direct: str, proxies: dict[str, tuple[str, int]], n: int, rounds: int, stream: bool) -> dict[str, Any]:
    """Direct and every proxy, one request each in turn (the order rotates), ``n`` turns a round: the proxies are
    measured in the same seconds, so "every default on against rules-only" is not a comparison of two hours."""
    names = ["direct", *proxies]
    bases = {"direct": direct, **{name: url for name, (url, _) in proxies.items()}}
    keys = ("added_p50_ms", "added_p99_ms", "added_ttft_p50_ms")
    per_round: dict[str, dict[str, list[float]]] = {name: {k: [] for k in keys} for name in proxies}
    proxy_cpu_ms: dict[str, list[float]] = {name: [] for name in proxies}
    direct_p50, client_cpu = [], []
    with httpx.Client(timeout=30) as client:
        for _ in range(20):  # warm every path's connections
            for name in names:
                one_call(client, bases[name], stream)
        for r in range(rounds):
            total: dict[str, list[float]] = {name: [] for name in names}
            first: dict[str, list[float]] = {name: [] for name in names}
            wall, cpu = time.perf_counter(), time.process_time()
            pcpu = {name: cpu_seconds(pid) for name, (_, pid) in proxies.items()}
            for i in range(n):
                k = (i + r) % len(names)
                for name in names[k:] + names[:k]:
                    t, f = one_call(client, bases[name], stream)
                    total[name].append(t)
                    first[name].append(f)
            client_cpu.append((time.process_time() - cpu) / (time.perf_counter() - wall))
            direct_p50.append(statistics.median(total["direct"]))
            for name, (_, pid) in proxies.items():
                proxy_cpu_ms[name].append((cpu_seconds(pid) - pcpu[name]) * 1000 / n)
                added = per_round[name]
                added["added_p50_ms"].append(statistics.median(total[name]) - statistics.median(total["direct"]))
                added["added_p99_ms"].append(pct(total[name], 99) - pct(total["direct"], 99))
                added["added_ttft_p50_ms"].append(statistics.median(first[name]) - statistics.median(first["direct"]))
    results: dict[str, Any] = {}
    for name in proxies:
        result = {k: spread(v) for k, v in per_round[name].items() if stream or k != "added_ttft_p50_ms"}
        result["direct_p50_ms"] = spread(direct_p50)
        result["client_cpu_share_of_a_core"] = spread(client_cpu)
        result["proxy_cpu_ms_per_request"] = spread(proxy_cpu_ms[name])
        results[name] = result
    return results


def _timed_load(base: str, total: int, concurrency: int, stream: bool) -> tuple[float, int, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    rps, errors = load(base, total, concurrency, stream)
    return rps, errors, (time.process_time() - cpu) / (time.perf_counter() - wall)


def concurrent(direct: str, proxies: dict[str, str], total: int, concurrency: int, rounds: int, stream: bool) -> dict:
    """Per round: direct, then each proxy, back to back. The client is ``bench.load_client`` (asyncio, keep-alive, a
    few hundred microseconds of CPU a request), and its CPU share during each side is reported."""
    per: dict[str, dict[str, list[float]]] = {
        name: {"ratio": [], "direct_rps": [], "proxy_rps": [], "client": [], "client_direct": []} for name in proxies
    }
    errors = dict.fromkeys(proxies, 0)
    for _ in range(rounds):
        d, e1, share_direct = _timed_load(direct, total, concurrency, stream)
        for name, url in proxies.items():
            p, e2, share = _timed_load(url, total, concurrency, stream)
            errors[name] += e1 + e2
            for key, value in (
                ("ratio", p / d),
                ("direct_rps", d),
                ("proxy_rps", p),
                ("client", share),
                ("client_direct", share_direct),
            ):
                per[name][key].append(value)
    return {
        name: {
            "throughput_vs_direct": spread(v["ratio"]),
            "direct_rps": spread(v["direct_rps"]),
            "proxy_rps": spread(v["proxy_rps"]),
            "client_cpu_share_of_a_core": spread(v["client"]),
            "client_cpu_share_of_a_core_direct": spread(v["client_direct"]),
            "errors": errors[name],
        }
        for name, v in per.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="just bench hop")
    parser.add_argument("-n", type=int, default=200, help="sequential requests per side per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--total", type=int, default=1000, help="requests per side per round at concurrency")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="llmtrace-hop-"))
    port = free_port()
    upstream = Process([sys.executable, "-m", "bench.minimal_upstream", str(port)], None, tmp / "upstream.log",
                       cwd=Path(__file__).resolve().parent.parent)  # fmt: skip
    direct = f"http://127.0.0.1:{port}"
    wait_http(f"{direct}/_stats")
    proxies = {
        "rules_only": start_proxy(tmp, direct, {"logging": {"level": "warn"}}),
        "defaults": start_proxy(tmp, direct, {"logging": {"level": "warn"}, "security_analysis": {"ml_enabled": True}}),
    }
    results: dict[str, Any] = {"rounds": args.rounds, "targets": TARGETS, "upstream": "bench.minimal_upstream"}
    machine: dict[str, Any] = {"calibration_ms_before": calibration_ms()}
    jiffies, stolen = cpu_times()
    try:
        before = httpx.get(f"{direct}/_stats").json()
        measured = {name: (proxy.url, proxy.process.popen.pid) for name, proxy in proxies.items()}
        urls = {name: proxy.url for name, proxy in proxies.items()}
        phases = {
            "sequential_non_streaming": sequential(direct, measured, args.n, args.rounds, False),
            "sequential_streaming": sequential(direct, measured, args.n // 2, args.rounds, True),
            "concurrent_non_streaming": concurrent(direct, urls, args.total, args.concurrency, args.rounds, False),
            "concurrent_streaming": concurrent(direct, urls, args.total // 2, args.concurrency, args.rounds, True),
        }
        for name in proxies:
            results[name] = {phase: by_proxy[name] for phase, by_proxy in phases.items()}
        after = httpx.get(f"{direct}/_stats").json()
        jiffies_after, stolen_after = cpu_times()
        machine["steal_share"] = round((stolen_after - stolen) / max(1, jiffies_after - jiffies), 4)
        machine["calibration_ms_after"] = calibration_ms()
        results["machine"] = machine
        results["upstream_cpu_ms_per_request"] = round(
            (after["cpu_s"] - before["cpu_s"]) * 1000 / max(1, after["requests"] - before["requests"]), 4
        )
    finally:
        for proxy in proxies.values():
            proxy.process.stop()
        upstream.stop()
    print(f"upstream's own CPU per request: {results['upstream_cpu_ms_per_request']} ms")
    print(
        f"machine: calibration {machine['calibration_ms_before']} -> {machine['calibration_ms_after']} ms (lower is "
        f"faster), {machine['steal_share']:.1%} of CPU time stolen by the hypervisor during the run"
    )
    for name in proxies:
        r = results[name]
        s, st = r["sequential_non_streaming"], r["sequential_streaming"]
        c, cs = r["concurrent_non_streaming"], r["concurrent_streaming"]
        print(
            f"{name}: added p50 {s['added_p50_ms']['median']} ms "
            f"[{s['added_p50_ms']['min']}-{s['added_p50_ms']['max']}], p99 {s['added_p99_ms']['median']} ms; "
            f"TTFT p50 {st['added_ttft_p50_ms']['median']} ms "
            f"[{st['added_ttft_p50_ms']['min']}-{st['added_ttft_p50_ms']['max']}]; c{args.concurrency} "
            f"{c['throughput_vs_direct']['median']:.2f} ({c['proxy_rps']['median']:.0f} against "
            f"{c['direct_rps']['median']:.0f} requests/s) / streaming {cs['throughput_vs_direct']['median']:.2f} "
            f"({cs['proxy_rps']['median']:.0f} against {cs['direct_rps']['median']:.0f}) of direct; "
            f"proxy CPU {s['proxy_cpu_ms_per_request']['median']} ms/request; client CPU "
            f"{s['client_cpu_share_of_a_core']['median']:.0%} (sequential), "
            f"{c['client_cpu_share_of_a_core']['median']:.0%} through the proxy and "
            f"{c['client_cpu_share_of_a_core_direct']['median']:.0%} direct (c{args.concurrency})"
        )
    text = json.dumps(results, indent=2) + "\n"
    Path(args.out).write_text(text)
    print(f"written to {args.out}")
    if args.out == DEFAULT_OUT:  # a default run joins the history the regression guard reads
        HOP_HISTORY.mkdir(parents=True, exist_ok=True)
        (HOP_HISTORY / f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json").write_text(text)
        compare_last(HOP_HISTORY, hop=True)


if __name__ == "__main__":
    main()
