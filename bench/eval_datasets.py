"""``just bench eval``: the proxy's analyzer over every file of ../shared/datasets/prompt_attacks, one row per file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.eval_cli import evaluate, load_dataset

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "prompt_attacks"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench eval_datasets")
    parser.add_argument("--dir", default=str(DEFAULT))
    parser.add_argument("--analyzer", default="regex")
    parser.add_argument("--out", default="bench/results/eval.json")
    args = parser.parse_args(argv)
    results = {}
    print(f"{'file':24} {'n':>5} {'prec':>6} {'recall':>6} {'fpr':>6} {'flagged':>7} {'p50 ms':>7}")
    for path in sorted(Path(args.dir).glob("*.jsonl")):
        r = evaluate(load_dataset(path), args.analyzer)
        results[path.stem] = r
        flagged = (r["tp"] + r["fp"]) / r["samples"]
        print(
            f"{path.stem:24} {r['samples']:>5} {r['precision']:>6.3f} {r['recall']:>6.3f} {r['fpr']:>6.3f} "
            f"{flagged:>7.1%} {r['latency_p50_ms']:>7.3f}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
