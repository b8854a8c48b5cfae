"""``just bench ml_cost``: what the ML detectors cost on this machine.

1. In process: load time of each model set, and the latency of the ensemble's request analysis (short and long
   prompts) and response analysis (with the toxicity model), p50/p99 over N calls, no caching (every text distinct).
2. The real proxy as users run it (lite storage, ML on; then also NER and toxicity): time until /health reports the
   models loaded, and the resident memory (VmRSS) of the proxy process after a burst of SDK-shaped requests.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app.analysis import build_analyzer, load_ensemble  # noqa: E402
from app.settings import OutputSafetySettings, ProxyConfig, SecurityAnalysisSettings  # noqa: E402
from tests.conftest import start_mock, start_proxy, wait_http  # noqa: E402

SHORT = "Can you summarise the attached meeting notes in three bullet points for the team? (#{i})"
LONG = (
    "Here is the project background for context. " * 40
    + "Please draft a status update for the steering committee covering risks and next steps (#{i})."
)
RESPONSE = "Sure. Here is a summary of the meeting: the team agreed on the roadmap and the budget (#{i})."


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)


def in_process(n: int, ner: bool, toxicity: bool) -> dict[str, Any]:
    config = ProxyConfig(
        security_analysis=SecurityAnalysisSettings(ner_enabled=ner),
        output_safety=OutputSafetySettings(enabled=toxicity, toxicity_enabled=toxicity),
    )
    started = time.perf_counter()
    analyzer, status = load_ensemble(config, build_analyzer(config))
    load = time.perf_counter() - started
    assert analyzer is not None, status
    out: dict[str, Any] = {"ner": ner, "toxicity": toxicity, "load_s": round(load, 2)}
    for name, template, call in (
        ("request_short", SHORT, lambda t: analyzer.analyze_request(t)),
        ("request_long_500_tokens", LONG, lambda t: analyzer.analyze_request(t)),
        ("response", RESPONSE, lambda t: analyzer.analyze_response(t)),
    ):
        samples = []
        for i in range(n):
            text = template.format(i=i)
            t0 = time.perf_counter()
            call(text)
            samples.append((time.perf_counter() - t0) * 1000)
        out[name] = {
            "p50_ms": pct(samples, 0.5),
            "p99_ms": pct(samples, 0.99),
            "mean_ms": round(statistics.mean(samples), 2),
        }
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError):
                continue
    return found


def proxy_run(tmp: Path, upstream: str, extra: dict[str, Any], requests: int) -> dict[str, Any]:
    started = time.perf_counter()
    config = {"logging": {"level": "warn"}, **extra}
    config["security_analysis"] = {"ml_enabled": True, "ml_preload": True, **extra.get("security_analysis", {})}
    proxy = start_proxy(tmp, upstream, config, wait=False)
    try:
        wait_http(f"{proxy.url}/health", expect=200, timeout=120)
        ready = time.perf_counter() - started
        ml = httpx.get(f"{proxy.url}/health").json()["ml"]
        with httpx.Client(timeout=30) as client:
            for i in range(requests):
                client.post(
                    f"{proxy.url}/v1/chat/completions",
                    json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": SHORT.format(i=i)}]},
                )
        time.sleep(2)  # let the analysis actor finish the burst
        return {
            "config": extra,
            "ready_s": round(ready, 2),
            "ml_status": ml.get("status"),
            "ml_load_time_ms": ml.get("load_time_ms"),
            "detectors": ml.get("detectors"),
            "ml_isolation": ml.get("ml_isolation"),
            "rss_mb_after_requests": rss_mb(proxy.process.popen.pid),
            # the encoder's child process (security_analysis.ml_isolation: process) counts too
            "rss_mb_with_children": round(
                rss_mb(proxy.process.popen.pid) + sum(rss_mb(c) for c in children(proxy.process.popen.pid)), 1
            ),
        }
    finally:
        proxy.process.stop()


def second_opinion_cost(n: int) -> dict[str, Any]:
    """NanoGuard (security_analysis.second_opinion): load time and the cost of one borderline prompt."""
    from adapters.ml.embedder import NanoGuardScorer

    started = time.perf_counter()
    scorer = NanoGuardScorer()
    load = time.perf_counter() - started
    scorer.scores(["warm-up"])
    timings = []
    for i in range(n):
        started = time.perf_counter()
        scorer.scores([SHORT.format(i=i)])
        timings.append((time.perf_counter() - started) * 1000)
    return {"load_s": round(load, 2), "one_prompt": {"p50_ms": pct(timings, 0.5), "p99_ms": pct(timings, 0.99)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench ml_cost")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--out", default="bench/results/ml_cost.json")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "in_process": [in_process(args.n, False, False), in_process(args.n, True, True)],
        "second_opinion": second_opinion_cost(max(20, args.n // 5)),
    }
    tmp = Path(tempfile.mkdtemp(prefix="llmtrace-mlcost-"))
    mock = start_mock(tmp)
    try:
        results["proxy"] = [
            proxy_run(tmp, mock.url, {}, args.requests),
            proxy_run(tmp, mock.url, {"security_analysis": {"ml_isolation": "thread"}}, args.requests),
            proxy_run(
                tmp,
                mock.url,
                {
                    "security_analysis": {"ner_enabled": True},
                    "output_safety": {"enabled": True, "toxicity_enabled": True},
                },
                args.requests,
            ),
            proxy_run(tmp, mock.url, {"security_analysis": {"second_opinion": "none"}}, args.requests),
        ]
    finally:
        mock.process.stop()
    print(json.dumps(results, indent=2))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
