"""Toxicity scoring with alt-profanity-check's model (MIT), exported to ``weights/toxicity_linear.json`` by
``ml/export_toxicity.py``: TF-IDF over 15,442 words and five sigmoid-calibrated linear SVMs, averaged. Evaluated with
numpy alone, it gives the package's probabilities without loading scikit-learn (about 90 MB less resident memory).

Long outputs are scored per sentence and the maximum taken, so one abusive sentence in a
long, otherwise polite answer is not averaged away. Synchronous and cheap (well under a millisecond per chunk).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np

MODEL_NAME = "alt-profanity-check 1.9.1 (linear SVM ensemble, exported)"
DETECTOR = "profanity_check"
WEIGHTS = Path(__file__).with_name("weights") / "toxicity_linear.json"
_SENTENCES = re.compile(r"(?<=[.!?\n])\s+")
MAX_CHUNKS = 128


def chunks(text: str) -> list[str]:
    """Sentences (fragments under 40 characters join the next), at most MAX_CHUNKS."""
    out: list[str] = []
    current = ""
    for sentence in _SENTENCES.split(text):
        current = f"{current} {sentence}" if current else sentence
        if len(current) >= 40:
            out.append(current)
            current = ""
        if len(out) >= MAX_CHUNKS:
            return out
    if current:
        out.append(current)
    return out or [text]


class ProfanityToxicityScorer:
    def __init__(self, weights: Path = WEIGHTS) -> None:
        started = time.perf_counter()
        spec = json.loads(weights.read_text(encoding="utf-8"))
        self._token = re.compile(spec["token_pattern"])
        terms = list(spec["vocabulary"])
        self._index = {term: i for i, term in enumerate(terms)}
        table = np.asarray([spec["vocabulary"][t] for t in terms], dtype=np.float64)
        self._idf = table[:, 0]
        self._coef = table[:, 1:]  # terms x classifiers
        self._intercept = np.asarray(spec["intercepts"], dtype=np.float64)
        calibration = np.asarray(spec["calibration"], dtype=np.float64)
        self._a, self._b = calibration[:, 0], calibration[:, 1]
        self.load_seconds = time.perf_counter() - started

    def probability(self, text: str) -> float:
        """The package's ``predict_prob`` for one text."""
        counts: dict[int, int] = {}
        for token in self._token.findall(text.lower()):
            index = self._index.get(token)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        decision = self._intercept.copy()
        if counts:
            ids = np.fromiter(counts, dtype=np.int64)
            weights = np.fromiter(counts.values(), dtype=np.float64) * self._idf[ids]
            decision += (weights / np.sqrt((weights**2).sum())) @ self._coef[ids]
        return float((1 / (1 + np.exp(self._a * decision + self._b))).mean())

    def score(self, text: str) -> float:
        if not text.strip():
            return 0.0
        return max(self.probability(chunk) for chunk in chunks(text))
