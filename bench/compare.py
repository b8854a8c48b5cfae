"""``just bench compare``: the regression guard of ``just bench overhead``.

``--hop`` does the same for ``just bench hop`` (``bench/results/hop-history/``, medians of rounds, both proxies).

Each default run of the overhead benchmark leaves a file in ``bench/results/overhead-history/``; this prints, for
the figures that matter (added latency, added TTFT, throughput against direct, the price of traffic controls and of
pseudonymisation), the last run against the one before it of the same kind (ML on, or ``--rules-only``), and flags a
change larger than the noise this machine shows between identical proxies.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HISTORY = Path(__file__).resolve().parent / "results" / "overhead-history"
HOP_HISTORY = Path(__file__).resolve().parent / "results" / "hop-history"

# (label, path in the results, lower is better, noise: a change smaller than this is not reported as one)
FIGURES: list[tuple[str, tuple[str, ...], bool, float]] = [
    ("added p50 ms (sequential)", ("sequential_non_streaming", "added_p50_ms"), True, 0.5),
    ("added p99 ms (sequential)", ("sequential_non_streaming", "added_p99_ms"), True, 2.0),
    ("added TTFT p50 ms", ("sequential_streaming", "added_ttft_p50_ms"), True, 0.5),
    ("throughput vs direct (c32)", ("concurrent_non_streaming", "throughput_vs_direct"), False, 0.05),
    ("throughput vs direct (c32, streaming)", ("concurrent_streaming", "throughput_vs_direct"), False, 0.05),
    ("traffic controls p50 ms", ("traffic_controls", "added_p50_ms"), True, 0.3),
    ("pseudonymisation p50 ms", ("data_protection", "non_streaming", "added_p50_ms"), True, 0.3),
]


# ``just bench hop``: each figure is the median of its rounds; the same noise bands, for both proxies.
HOP_FIGURES: list[tuple[str, tuple[str, ...], bool, float]] = [
    (f"{proxy}: {label}", (proxy, *path, "median"), lower_better, noise)
    for proxy in ("rules_only", "defaults")
    for label, path, lower_better, noise in [
        ("added p50 ms (sequential)", ("sequential_non_streaming", "added_p50_ms"), True, 0.3),
        ("added p99 ms (sequential)", ("sequential_non_streaming", "added_p99_ms"), True, 1.5),
        ("added TTFT p50 ms", ("sequential_streaming", "added_ttft_p50_ms"), True, 0.3),
        ("throughput vs direct (c32)", ("concurrent_non_streaming", "throughput_vs_direct"), False, 0.05),
        ("throughput vs direct (c32, streaming)", ("concurrent_streaming", "throughput_vs_direct"), False, 0.05),
        ("proxy CPU ms per request", ("sequential_non_streaming", "proxy_cpu_ms_per_request"), True, 0.3),
    ]
]


def _get(data: dict[str, Any], path: tuple[str, ...]) -> float | None:
    node: Any = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return float(node) if isinstance(node, (int, float)) else None


def compare_last(history: Path = HISTORY, rules_only: bool = False, hop: bool = False) -> int:
    if hop:
        runs = sorted(history.glob("*.json"))
        figures = HOP_FIGURES
    else:
        runs = sorted(p for p in history.glob("*.json") if p.stem.endswith("-rules") == rules_only)
        figures = FIGURES
    if len(runs) < 2:
        print(f"regression guard: {len(runs)} recorded run(s) of this kind in {history}; nothing to compare yet")
        return 0
    before, after = (json.loads(p.read_text()) for p in runs[-2:])
    print(f"regression guard: {runs[-1].stem} against {runs[-2].stem}")
    speeds = [_get(run, ("machine", "calibration_ms_before")) for run in (before, after)]
    if None not in speeds:
        print(f"  machine calibration {speeds[0]} -> {speeds[1]} ms (a slower machine moves every figure)")
        old_speed, new_speed = (float(x) for x in speeds)  # type: ignore[arg-type]
        if max(old_speed, new_speed) > 1.25 * min(old_speed, new_speed):
            print(
                f"  WARNING: the machine ran {new_speed / old_speed - 1:+.0%} slower in the last run; the changes "
                "below are the machine's as much as the code's: run both again in the same hour"
            )
    steal = _get(after, ("machine", "steal_share"))
    if steal is not None and steal > 0.1:
        print(f"  WARNING: the hypervisor took {steal:.0%} of the CPU during the last run")
    worse = 0
    for label, path, lower_better, noise in figures:
        old, new = _get(before, path), _get(after, path)
        if old is None or new is None:
            continue
        change = new - old
        verdict = "same (within noise)"
        if abs(change) > noise:
            better = change < 0 if lower_better else change > 0
            verdict = "better" if better else "WORSE"
            worse += not better
        print(f"  {label:52s} {old:8.3f} -> {new:8.3f}  ({change:+.3f})  {verdict}")
    return 1 if worse else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench compare")
    parser.add_argument("--rules-only", action="store_true", help="compare the rules-only runs")
    parser.add_argument("--hop", action="store_true", help="compare the last two runs of `just bench hop`")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a figure got worse beyond its noise")
    args = parser.parse_args(argv)
    status = compare_last(HOP_HISTORY if args.hop else HISTORY, args.rules_only, hop=args.hop)
    return status if args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
