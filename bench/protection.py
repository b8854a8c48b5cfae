"""``just bench protection [--set test|dev|holdout]``: recall and false positives of request-side detection.

Runs ``domain.protection.find_sensitive`` (with the proxy's libphonenumber phone finder) over the labelled prompts
of ``bench/make_protection_set.py``. A labelled value counts as found when a detection covers it (whatever kind the
detector calls it: what matters is that it would not reach the provider). False positives: negative prompts with any
detection, and detections in positive prompts that cover no labelled value.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from adapters.security.phones import find_phone_numbers
from domain.protection import find_sensitive

DATA = Path(__file__).resolve().parent / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench protection")
    parser.add_argument("--set", default="test", choices=["test", "dev", "holdout"])
    parser.add_argument("--show", action="store_true", help="print every miss and false positive")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in (DATA / f"protection-{args.set}.jsonl").read_text().splitlines()]
    expected = found = negatives = flagged_negatives = spurious = 0
    per_kind: Counter[str] = Counter()
    per_kind_found: Counter[str] = Counter()
    started = time.perf_counter()
    for row in rows:
        prompt = row["prompt"]
        hits = find_sensitive(prompt, find_phone_numbers)
        spans = []
        for value in row["values"]:
            start = prompt.find(value["value"])
            spans.append((start, start + len(value["value"])))
            expected += 1
            per_kind[value["kind"]] += 1
            covered = any(h.start <= start + 1 and h.end >= start + len(value["value"]) - 1 for h in hits)
            if covered:
                found += 1
                per_kind_found[value["kind"]] += 1
            elif args.show:
                print(f"MISS {value['kind']}: {value['value']!r} in {prompt[:100]!r}")
        extra = [h for h in hits if not any(h.start < e and h.end > s for s, e in spans)]
        if not row["values"]:
            negatives += 1
            flagged_negatives += bool(hits)
        spurious += len(extra) if row["values"] else 0
        if extra and args.show:
            print(f"FALSE POSITIVE {[(h.kind, prompt[h.start : h.end]) for h in extra]} in {prompt[:100]!r}")
    elapsed = time.perf_counter() - started
    result = {
        "set": args.set,
        "prompts": len(rows),
        "labelled_values": expected,
        "recall": round(found / expected, 4),
        "negative_prompts": negatives,
        "negative_prompts_flagged": flagged_negatives,
        "false_positive_rate": round(flagged_negatives / negatives, 4) if negatives else None,
        "spurious_detections_in_positive_prompts": spurious,
        "recall_by_kind": {k: f"{per_kind_found[k]}/{n}" for k, n in sorted(per_kind.items())},
        "mean_ms_per_prompt": round(elapsed / len(rows) * 1000, 3),
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"protection-{args.set}.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
