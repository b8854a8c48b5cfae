"""The ensemble analyzer: regex detectors plus the MiniLM injection/jailbreak head, behind the SecurityAnalyzer port.

Inference is synchronous (the analysis actor runs it in a worker thread). ``warm(texts)`` embeds a whole batch in one
forward pass and caches the scores, so several waiting exchanges cost one model call.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adapters.ml.embedder import MODEL_NAME, MiniLMEmbedder
from domain.findings import SecurityFinding
from domain.security.analyzer import RegexSecurityAnalyzer
from domain.security.ensemble import VOTED_TYPES, combine, ml_finding
from domain.security.normalise import normalise
from domain.security.pii import PiiMatch
from domain.traces import AgentAction

HEAD_PATH = Path(__file__).with_name("weights") / "injection_head.json"
DETECTOR = "minilm_injection_head"


class InjectionClassifier:
    def __init__(self, embedder: MiniLMEmbedder, head_path: Path = HEAD_PATH) -> None:
        head = json.loads(head_path.read_text(encoding="utf-8"))
        if int(head["dimension"]) != embedder.dimension:
            raise ValueError(f"head dimension {head['dimension']} does not match the embedder ({embedder.dimension})")
        self.embedder = embedder
        self.kind = head.get("kind", "logistic")
        if self.kind == "mlp":
            self.w1 = np.asarray(head["w1"], dtype=np.float32).T
            self.b1 = np.asarray(head["b1"], dtype=np.float32)
            self.w2 = np.asarray(head["w2"], dtype=np.float32)
            self.b2 = float(head["b2"])
        else:
            self.weights = np.asarray(head["weights"], dtype=np.float32)
            self.bias = float(head["bias"])
        self.thresholds: dict[str, float] = {k: float(v) for k, v in head["thresholds"].items()}
        self.head_path = head_path
        self._cache: collections.OrderedDict[str, float] = collections.OrderedDict()

    def score(self, texts: Sequence[str]) -> list[float]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for text, windows in zip(missing, self.embedder.embed_windows(missing), strict=True):
                if self.kind == "mlp":
                    logits = np.maximum(windows @ self.w1 + self.b1, 0) @ self.w2 + self.b2
                else:
                    logits = windows @ self.weights + self.bias
                self._cache[text] = float((1 / (1 + np.exp(-logits))).max())
                while len(self._cache) > 512:
                    self._cache.popitem(last=False)
        return [self._cache[t] for t in texts]


class EnsembleSecurityAnalyzer:
    name = "ensemble"

    def __init__(
        self,
        regex: RegexSecurityAnalyzer,
        classifier: InjectionClassifier,
        operating_point: str,
        over_defence: bool = False,
    ) -> None:
        self.regex = regex
        self.classifier = classifier
        self.operating_point = operating_point
        self.threshold = classifier.thresholds[operating_point]
        # over_defence: the model alone must clear the high-precision threshold; with a rule agreeing, the
        # operating point's threshold applies. Fewer false positives on benign prompts full of trigger words.
        self.over_defence = over_defence
        self.solo_threshold = (
            max(self.threshold, classifier.thresholds["high_precision"]) if over_defence else self.threshold
        )

    @classmethod
    def load(
        cls,
        regex: RegexSecurityAnalyzer,
        operating_point: str,
        head_path: Path = HEAD_PATH,
        over_defence: bool = False,
    ) -> tuple[EnsembleSecurityAnalyzer, float]:
        started = time.perf_counter()
        if not head_path.is_file():
            raise FileNotFoundError(f"classifier head {head_path} not found")
        embedder = MiniLMEmbedder(threads=2)
        analyzer = cls(regex, InjectionClassifier(embedder, head_path), operating_point, over_defence)
        analyzer.classifier.score(["warm-up"])  # first inference allocates; do it at load time
        return analyzer, time.perf_counter() - started

    def describe(self) -> dict[str, Any]:
        return {
            "prompt_injection_model": MODEL_NAME,
            "classifier_head": self.classifier.head_path.name,
            "detectors": ["regex", DETECTOR],
            "voting_mode": "regex+ml (agreement boost, single-detector cap)",
            "operating_point": self.operating_point,
            "ml_threshold": self.threshold,
            "over_defence": self.over_defence,
        }

    def warm(self, texts: Sequence[str]) -> None:
        self.classifier.score([normalise(t) for t in texts if t])

    def analyze_request(
        self, text: str, now: dt.datetime | None = None, *, fast: bool = False
    ) -> list[SecurityFinding]:
        now = now or dt.datetime.now(dt.UTC)
        regex = self.regex.analyze_request(text, now)
        if fast or not text:
            return regex
        score = self.classifier.score([normalise(text)])[0]
        rules_agree = any(f.finding_type in VOTED_TYPES for f in regex)
        finding = ml_finding(score, self.threshold if rules_agree else self.solo_threshold, DETECTOR, now)
        return combine(regex, [finding] if finding else [])

    def analyze_response(
        self,
        text: str,
        now: dt.datetime | None = None,
        *,
        location: str = "response.content",
        toxicity: bool | None = None,
    ) -> list[SecurityFinding]:
        return self.regex.analyze_response(text, now, location=location, toxicity=toxicity)

    def analyze_actions(self, actions: Iterable[AgentAction], now: dt.datetime | None = None) -> list[SecurityFinding]:
        return self.regex.analyze_actions(actions, now)

    def pii_matches(self, text: str) -> list[PiiMatch]:
        return self.regex.pii_matches(text)
