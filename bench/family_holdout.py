"""``just bench family_holdout``: leave-one-family-out through the whole analyzer (rules and models).

For each attack family written for this project (ml/data/make_families.py), the heads are retrained by
``just train-detectors`` *without* that family (its attacks and its benign look-alikes), thresholds included; the
proxy's ensemble analyzer then runs with those heads over the family's attacks and look-alikes. Reported per family:
recall on its attacks and the share of its look-alikes flagged (security_score >= 50), with a head that never saw it.
The target of issue 17 is recall >= 0.6 for every family. The rules are not held out: they are hand-written, and some
were written with these families in view (so this measures the heads' generalisation, not the rules').

By default the held-out heads come from the folds a full ``just train-detectors`` keeps (ml/.cache/folds_fp32): the
fold that held a family out trained exactly the heads a retrain without it would ship; only its thresholds differ
slightly (see ``ml.train_detectors.held_out_head_file``). That takes a few minutes per family. ``--retrain`` retrains
per family instead (about an hour each with the attention head). Results: ``bench/results/family_holdout.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.eval_cli import evaluate_with
from ml.corpus import read_jsonl
from ml.train_detectors import SECOND_OPINION_CACHE, SecondOpinionCache, held_out_head_file
from ml.train_detectors import main as train

FAMILIES = Path(__file__).resolve().parent.parent / "ml" / "data" / "family_prompts.jsonl"
TARGET_RECALL = 0.6


def analyzer_with(  # type: ignore[no-untyped-def]
    head: Path, operating_point: str, second_opinion: str = "nanoguard", rule_veto: bool = True
):
    from app.analysis import build_analyzer, load_ensemble
    from app.settings import ProxyConfig, SecurityAnalysisSettings

    config = ProxyConfig(
        security_analysis=SecurityAnalysisSettings(
            ml_enabled=True,
            ml_model=str(head),
            operating_point=operating_point,
            second_opinion=second_opinion,
            rule_veto=rule_veto,
        )
    )
    analyzer, status = load_ensemble(config, build_analyzer(config))
    if analyzer is None:
        raise RuntimeError(f"the ensemble could not load: {status.get('error')}")
    return analyzer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench family_holdout")
    parser.add_argument("--family", action="append", help="only these families (default: all)")
    parser.add_argument("--operating-point", default="balanced")
    parser.add_argument("--second-opinion", default="nanoguard", choices=("none", "nanoguard"))
    parser.add_argument(
        "--no-rule-veto", dest="rule_veto", action="store_false", help="every rule hit stands (rule_veto: false)"
    )
    parser.add_argument("--out", default="bench/results/family_holdout.json")
    parser.add_argument(
        "--retrain", action="store_true", help="retrain per family rather than use the folds of the last full training"
    )
    args = parser.parse_args(argv)
    rows = read_jsonl(FAMILIES)
    families = args.family or sorted({r["family"] for r in rows})
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        for family in families:
            head = Path(tmp) / f"{family}.json"
            if args.retrain:
                train(["--out", str(head), "--exclude-source", f"family_{family}"])
            else:
                second = SecondOpinionCache(SECOND_OPINION_CACHE) if args.second_opinion == "nanoguard" else None
                head.write_text(json.dumps(held_out_head_file(f"family_{family}", second_opinion=second)))
            result = evaluate_with(
                [r for r in rows if r["family"] == family],
                analyzer_with(head, args.operating_point, args.second_opinion, args.rule_veto),
            )
            report[family] = {
                "recall": result["recall"],
                "lookalikes_flagged": result["fpr"],
                "attacks": result["tp"] + result["fn"],
                "lookalikes": result["fp"] + result["tn"],
            }
            print(f"held out {family}: recall {result['recall']:.3f}, look-alikes flagged {result['fpr']:.3f}")
    below = [f for f, r in report.items() if r["recall"] < TARGET_RECALL]
    print(f"families below recall {TARGET_RECALL}: {below or 'none'}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "operating_point": args.operating_point,
                "second_opinion": args.second_opinion,
                "rule_veto": args.rule_veto,
                "heads": "retrained without the family" if args.retrain else "the full training's fold without it",
                "families": report,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
