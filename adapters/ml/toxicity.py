"""Toxicity scoring with ``alt-profanity-check`` (a linear model over word n-grams, MIT, weights inside the wheel).

Long outputs are scored per sentence group (about 300 characters) and the maximum taken, so one abusive sentence in a
long, otherwise polite answer is not averaged away. Synchronous; called from a worker thread.
"""

from __future__ import annotations

import re
import threading
import time

MODEL_NAME = "alt-profanity-check 1.9.1 (scikit-learn linear model)"
DETECTOR = "profanity_check"
_SENTENCES = re.compile(r"(?<=[.!?\n])\s+")
CHUNK_CHARS = 300
MAX_CHUNKS = 64


def chunks(text: str) -> list[str]:
    out: list[str] = []
    current = ""
    for sentence in _SENTENCES.split(text):
        if current and len(current) + len(sentence) > CHUNK_CHARS:
            out.append(current)
            current = ""
        current = f"{current} {sentence}" if current else sentence
        if len(out) >= MAX_CHUNKS:
            break
    if current and len(out) < MAX_CHUNKS:
        out.append(current)
    return out or [text]


class ProfanityToxicityScorer:
    def __init__(self) -> None:
        started = time.perf_counter()
        from profanity_check import predict_prob

        self._predict = predict_prob
        self._lock = threading.Lock()
        self.load_seconds = time.perf_counter() - started

    def score(self, text: str) -> float:
        if not text.strip():
            return 0.0
        with self._lock:
            return float(max(self._predict(chunks(text))))
