"""``llmtrace-eval``: run the proxy's own analyzer over a labelled JSON-lines dataset and report detection quality.

Each line is ``{"id", "text", "label": "malicious"|"benign", "category"?, "family"?}``. A sample counts as flagged when
the security_score the proxy would store for it as a user prompt is at least 50. Recall is reported per attack family
(``family``, else ``category``), and the share of benign prompts flagged per category.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from app.analysis import build_analyzer, load_ensemble
from app.settings import ProxyConfig, SecurityAnalysisSettings
from domain.findings import SecurityFinding, security_score
from ports.security import SecurityAnalyzer

FLAG_SCORE = 50
MODEL_FINDING_TYPES = frozenset({"ml_prompt_injection", "harmful_request"})  # raised by the heads, not the rules


class DatasetError(Exception):
    pass


def load_dataset(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise DatasetError(f'{path}:{number}: each line must be an object with a string "text"')
            if row.get("label") not in ("malicious", "benign"):
                raise DatasetError(
                    f'{path}:{number}: "label" must be "malicious" or "benign", got {row.get("label")!r}'
                )
            rows.append(row)
    return rows


def make_analyzer(
    analyzer_name: str,
    operating_point: str = "balanced",
    over_defence: bool = False,
    second_opinion: str = "nanoguard",
    rule_veto: bool = True,
) -> SecurityAnalyzer:
    config = ProxyConfig(
        security_analysis=SecurityAnalysisSettings(
            ml_enabled=analyzer_name == "ensemble",
            operating_point=operating_point,
            over_defence=over_defence,
            second_opinion=second_opinion,
            rule_veto=rule_veto,
        )
    )
    analyzer: SecurityAnalyzer = build_analyzer(config)
    if analyzer_name == "ensemble":
        ensemble, status = load_ensemble(config, build_analyzer(config))
        if ensemble is None:
            raise RuntimeError(f"the ensemble could not load: {status.get('error')}")
        analyzer = ensemble
    return analyzer


def evaluate(
    rows: list[dict[str, Any]],
    analyzer_name: str,
    operating_point: str = "balanced",
    over_defence: bool = False,
    second_opinion: str = "nanoguard",
    rule_veto: bool = True,
) -> dict[str, Any]:
    result = evaluate_with(rows, make_analyzer(analyzer_name, operating_point, over_defence, second_opinion, rule_veto))
    return {**result, "analyzer": analyzer_name}


def flagging_detectors(findings: list[SecurityFinding]) -> str:
    """Which side raised the findings that flag a text: ``rules``, ``model`` or ``rules+model``."""
    sides = {
        "model" if f.finding_type in MODEL_FINDING_TYPES else "rules"
        for f in findings
        if (security_score([f]) or 0) >= FLAG_SCORE
    }
    return "+".join(sorted(sides, key=["rules", "model"].index))


def evaluate_with(rows: list[dict[str, Any]], analyzer: SecurityAnalyzer) -> dict[str, Any]:
    tp = fp = tn = fn = 0
    per_category: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    benign_per_category: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    latencies = []
    flagged_by: collections.Counter[str] = collections.Counter()
    for row in rows:
        started = time.perf_counter()
        findings = analyzer.analyze_request(row["text"])
        latencies.append((time.perf_counter() - started) * 1000)
        flagged = (security_score(findings) or 0) >= FLAG_SCORE
        if flagged:
            flagged_by[flagging_detectors(findings)] += 1
        malicious = row["label"] == "malicious"
        kind = str(row.get("family") or row.get("category") or "uncategorised")
        tally = per_category[kind] if malicious else benign_per_category[kind]
        tally[1] += 1
        tally[0] += flagged
        if malicious:
            tp += flagged
            fn += not flagged
        else:
            fp += flagged
            tn += not flagged
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ordered = sorted(latencies)
    return {
        "analyzer": analyzer.name,
        "samples": len(rows),
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "accuracy": round((tp + tn) / len(rows), 4) if rows else 0.0,
        "fpr": round(fp / (fp + tn), 4) if fp + tn else 0.0,
        "per_category_recall": {k: round(v[0] / v[1], 4) for k, v in sorted(per_category.items())},
        "per_category_benign_flagged": {k: round(v[0] / v[1], 4) for k, v in sorted(benign_per_category.items())},
        "flagged_by": dict(sorted(flagged_by.items())),
        "latency_p50_ms": round(statistics.median(ordered), 3) if ordered else 0.0,
        "latency_p99_ms": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 3)
        if ordered
        else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmtrace-eval", description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True, action="append", help="JSON-lines file (repeatable)")
    parser.add_argument("--analyzer", choices=("regex", "ensemble"), default="regex")
    parser.add_argument("--operating-point", choices=("high_recall", "balanced", "high_precision"), default="balanced")
    parser.add_argument(
        "--over-defence", action="store_true", help="ensemble: the model alone must clear the high-precision threshold"
    )
    parser.add_argument(
        "--second-opinion",
        choices=("none", "nanoguard"),
        default="nanoguard",
        help="ensemble: NanoGuard's second opinion on borderline injection scores (security_analysis.second_opinion)",
    )
    parser.add_argument(
        "--no-rule-veto",
        dest="rule_veto",
        action="store_false",
        help="ensemble: every rule hit stands, even where the model disagrees (security_analysis.rule_veto: false)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    try:
        for path in args.dataset:
            rows.extend(load_dataset(Path(path)))
    except (DatasetError, OSError) as exc:
        print(f"llmtrace-eval: {exc}", file=sys.stderr)
        return 2
    try:
        result = evaluate(
            rows, args.analyzer, args.operating_point, args.over_defence, args.second_opinion, args.rule_veto
        )
    except RuntimeError as exc:
        print(f"llmtrace-eval: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"analyzer {result['analyzer']}, {result['samples']} samples")
    print(f"tp {result['tp']}  fp {result['fp']}  tn {result['tn']}  fn {result['fn']}")
    for key in ("precision", "recall", "f1", "accuracy", "fpr"):
        print(f"{key:10} {result[key]:.4f}")
    print(f"latency p50 {result['latency_p50_ms']:.3f} ms, p99 {result['latency_p99_ms']:.3f} ms")
    for category, recall in result["per_category_recall"].items():
        print(f"  recall {category}: {recall:.4f}")
    for category, share in result["per_category_benign_flagged"].items():
        print(f"  benign flagged {category}: {share:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
