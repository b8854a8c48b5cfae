"""The ensemble analyzer: regex detectors plus the MiniLM injection/jailbreak head, behind the SecurityAnalyzer port.

Inference is synchronous (the analysis actor runs it in a worker thread). ``warm(texts)`` embeds a whole batch in one
forward pass and caches the scores, so several waiting exchanges cost one model call.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from adapters.ml.embedder import MODEL_NAME, Embedder, MiniLMEmbedder
from adapters.ml.embedding_process import ProcessEmbedder
from adapters.ml.ner import DETECTOR as NER_DETECTOR
from adapters.ml.ner import MODEL_NAME as NER_MODEL
from adapters.ml.ner import SpacyEntityFinder
from adapters.ml.toxicity import DETECTOR as TOXICITY_DETECTOR
from adapters.ml.toxicity import MODEL_NAME as TOXICITY_MODEL
from adapters.ml.toxicity import ProfanityToxicityScorer
from domain.findings import SecurityFinding
from domain.security.analyzer import RegexSecurityAnalyzer
from domain.security.ensemble import (
    combine,
    harmful_request_finding,
    hidden_payloads,
    merge_entities,
    ml_finding,
    ml_toxicity,
    second_opinion_finding,
    veto_rules,
    votes,
)
from domain.security.normalise import normalise
from domain.security.pii import PiiMatch
from domain.traces import AgentAction

log = logging.getLogger("llmtrace.ml")

HEAD_PATH = Path(__file__).with_name("weights") / "injection_head.json"
DETECTOR = "minilm_injection_head"
SECOND_OPINION_DETECTOR = "nanoguard"
HARMFUL_DETECTOR = "minilm_harmful_request_head"


def encoder_precision(head_path: Path) -> str:
    """The encoder precision the heads were trained on (their features differ): ``int8`` or ``fp32``."""
    return str(json.loads(head_path.read_text(encoding="utf-8")).get("encoder_precision", "fp32"))


class PromptClassifier:
    """MLP heads (injection/jailbreak, harmful request) over MiniLM window features; a text scores the maximum over
    its windows. Reads the JSON written by ``just train-detectors`` (format 2: several heads, chosen layers; format 1:
    one injection head over the sentence embedding)."""

    def __init__(self, embedder: Embedder, head_path: Path = HEAD_PATH) -> None:
        spec = json.loads(head_path.read_text(encoding="utf-8"))
        self.layers: tuple[int, ...] = tuple(spec.get("layers", (6,)))
        expected = embedder.dimension * len(self.layers)
        if int(spec["dimension"]) != expected:
            raise ValueError(f"head dimension {spec['dimension']} does not match the embedder ({expected})")
        wanted = encoder_precision(head_path)
        if embedder.precision != wanted:
            raise ValueError(f"{head_path.name} was trained on the {wanted} encoder, not {embedder.precision}")
        self.embedder = embedder
        heads = spec.get("heads", {"injection": spec})
        self.heads = {name: _Head(head) for name, head in heads.items()}
        # heads with learned attention pooling: their query columns go to the embedder together, one forward pass
        # gives every head its pooled features; each head reads the means and its own pooled columns
        mean_width = expected
        columns: list[np.ndarray] = []
        for head in self.heads.values():
            if head.attention is not None:
                if head.attention.shape[0] != mean_width + 1:
                    raise ValueError(f"attention queries of {head.attention.shape[0] - 1} inputs, not {mean_width}")
                first = mean_width + embedder.dimension * sum(c.shape[1] for c in columns)
                head.columns = np.r_[0:mean_width, first : first + embedder.dimension * head.attention.shape[1]]
                columns.append(head.attention)
        self.attention: np.ndarray | None = np.concatenate(columns, axis=1) if columns else None
        for name, head in self.heads.items():  # a mis-sized head would otherwise fail on every prompt, not here
            reads = mean_width if head.columns is None else len(head.columns)
            if head.inputs != reads:
                raise ValueError(f"head {name!r} takes {head.inputs} inputs, but its features are {reads} wide")
        if "injection" not in self.heads:
            raise ValueError(f"{head_path} has no injection head")
        self.thresholds: dict[str, dict[str, float]] = {
            name: {k: float(v) for k, v in head["thresholds"].items()} for name, head in heads.items()
        }
        # the fused rule for security_analysis.second_opinion (ml/train_detectors.py second_opinion_thresholds)
        self.second_opinion: dict[str, Any] | None = heads["injection"].get("second_opinion")
        # the injection score under which a rule hit is overruled (ml/train_detectors.py rule_veto)
        self.rule_veto: dict[str, Any] | None = heads["injection"].get("rule_veto")
        if self.rule_veto is not None:
            below = self.rule_veto.get("below") if isinstance(self.rule_veto, dict) else None
            if isinstance(below, bool) or not isinstance(below, int | float) or not 0 <= below < 1:
                raise ValueError(f"{head_path.name}: rule_veto.below must be a number from 0 to 1, got {below!r}")
        self.head_path = head_path
        self._cache: collections.OrderedDict[str, dict[str, float]] = collections.OrderedDict()
        self._cache_lock = threading.Lock()  # post-hoc analysis and enforcement call from different threads

    def scores(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Per text, each head's probability. Recent results are cached, so ``warm`` batches pay once."""
        found: dict[str, dict[str, float]] = {}
        with self._cache_lock:
            for text in dict.fromkeys(texts):
                if text in self._cache:
                    found[text] = self._cache[text]
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:  # the embedder serialises model calls itself; the cache lock is never held across one
            features = self.embedder.embed_windows(missing, layers=self.layers, attention=self.attention)
            for text, windows in zip(missing, features, strict=True):
                found[text] = {name: head.probability(windows) for name, head in self.heads.items()}
            with self._cache_lock:
                for text in missing:
                    self._cache[text] = found[text]
                while len(self._cache) > 512:
                    self._cache.popitem(last=False)
        return [found[t] for t in texts]


class _Head:
    def __init__(self, head: dict[str, Any]) -> None:
        self.kind = head.get("kind", "logistic")
        # "attention_mlp": an MLP over the window means and the head's own learned attention poolings
        self.attention: np.ndarray | None = None
        self.columns: np.ndarray | None = None  # which feature columns are this head's (set by PromptClassifier)
        if self.kind == "attention_mlp":
            self.attention = np.asarray(head["attention"], dtype=np.float32).T  # (inputs + 1) x H
        if self.kind in ("mlp", "attention_mlp"):
            self.w1 = np.asarray(head["w1"], dtype=np.float32).T
            self.b1 = np.asarray(head["b1"], dtype=np.float32)
            self.w2 = np.asarray(head["w2"], dtype=np.float32)
            self.b2 = float(head["b2"])
            self.inputs = self.w1.shape[0]
        else:
            self.weights = np.asarray(head["weights"], dtype=np.float32)
            self.bias = float(head["bias"])
            self.inputs = len(self.weights)

    def probability(self, windows: Any) -> float:
        # a head over the means only reads the leading columns, beside heads with attention poolings
        windows = windows[:, self.columns] if self.columns is not None else windows[:, : self.inputs]
        if self.kind in ("mlp", "attention_mlp"):
            logits = np.maximum(windows @ self.w1 + self.b1, 0) @ self.w2 + self.b2
        else:
            logits = windows @ self.weights + self.bias
        return float((1 / (1 + np.exp(-logits))).max())


class EnsembleSecurityAnalyzer:
    name = "ensemble"

    def __init__(
        self,
        regex: RegexSecurityAnalyzer,
        classifier: PromptClassifier,
        operating_point: str,
        over_defence: bool = False,
        entity_finder: SpacyEntityFinder | None = None,
        toxicity_scorer: ProfanityToxicityScorer | None = None,
        toxicity_threshold: float = 0.7,
        harmful_requests: bool = True,
        second_opinion: bool = False,
        rule_veto: bool = True,
    ) -> None:
        self.regex = regex
        self.entity_finder = entity_finder
        self.toxicity_scorer = toxicity_scorer
        self.toxicity_threshold = toxicity_threshold
        self.classifier = classifier
        self.operating_point = operating_point
        self.threshold = classifier.thresholds["injection"][operating_point]
        # With a second opinion, the head file's fused rule: the head alone needs a higher threshold, and a score in
        # [second_opinion_floor, that threshold) is borderline: flagged when NanoGuard scores >= second_opinion_bar.
        # Both thresholds were chosen together so the pair spends the operating point's false-positive budget.
        self.second_opinion_floor: float | None = None
        self.second_opinion_bar = 1.0
        if second_opinion and operating_point != "high_recall":
            fused = classifier.second_opinion
            # a head file trained before the fused rule existed (a custom ml_model) keeps working, head alone
            rule = fused["points"].get(operating_point) if fused is not None else None
            if fused is None:
                log.warning(
                    "second opinion: %s has no second-opinion thresholds (retrain with `just train-detectors`); "
                    "the head decides alone",
                    classifier.head_path.name,
                )
            elif rule is None:  # NanoGuard alone already spends this point's false-positive budget
                log.warning(
                    "second opinion: no rule fits the %s false-positive budget; the head decides alone", operating_point
                )
            else:
                self.threshold = float(rule["threshold"])
                self.second_opinion_floor = float(fused["asked_from"])
                self.second_opinion_bar = float(rule["bar"])
        # a rule hit the head scores under this is overruled (domain.security.ensemble.veto_rules)
        self.rule_veto_below: float | None = None
        if rule_veto and classifier.rule_veto is not None:
            self.rule_veto_below = float(classifier.rule_veto["below"])
        elif rule_veto:
            log.warning(
                "rule veto: %s has no rule_veto (retrain with `just train-detectors`); every rule hit stands",
                classifier.head_path.name,
            )
        self.harmful_threshold = (
            classifier.thresholds["harmful"][operating_point]
            if harmful_requests and "harmful" in classifier.thresholds
            else None
        )
        # over_defence: the model alone must clear the high-precision threshold; with a rule agreeing, the
        # operating point's threshold applies. Fewer false positives on benign prompts full of trigger words.
        self.over_defence = over_defence
        self.solo_threshold = (
            max(self.threshold, classifier.thresholds["injection"]["high_precision"])
            if over_defence
            else self.threshold
        )

    @classmethod
    def load(
        cls,
        regex: RegexSecurityAnalyzer,
        operating_point: str,
        head_path: Path = HEAD_PATH,
        over_defence: bool = False,
        *,
        ner_enabled: bool = False,
        toxicity_model: bool = False,
        toxicity_threshold: float = 0.7,
        harmful_requests: bool = True,
        isolation: str = "process",
        second_opinion: str = "nanoguard",
        rule_veto: bool = True,
    ) -> tuple[EnsembleSecurityAnalyzer, float]:
        """Load every enabled model (seconds; call from a worker thread). Any failure raises: the caller runs
        regex-only and reports the reason."""
        started = time.perf_counter()
        if not head_path.is_file():
            raise FileNotFoundError(f"classifier head {head_path} not found")
        precision = encoder_precision(head_path)
        if operating_point == "high_recall":
            second_opinion = "none"  # nothing lies between the high_recall threshold and itself (said at startup)
        embedder: Embedder = (
            ProcessEmbedder(threads=2, precision=precision, second_opinion=second_opinion)
            if isolation == "process"
            else MiniLMEmbedder(threads=2, precision=precision, second_opinion=second_opinion)
        )
        analyzer = cls(
            regex,
            PromptClassifier(embedder, head_path),
            operating_point,
            over_defence,
            entity_finder=SpacyEntityFinder() if ner_enabled else None,
            toxicity_scorer=ProfanityToxicityScorer() if toxicity_model else None,
            toxicity_threshold=toxicity_threshold,
            harmful_requests=harmful_requests,
            second_opinion=second_opinion != "none",
            rule_veto=rule_veto,
        )
        # first inference allocates; do it at load time
        analyzer.classifier.scores(["warm-up"])
        if analyzer.second_opinion_floor is not None:
            analyzer.classifier.embedder.second_opinion_scores(["warm-up"])
        if analyzer.entity_finder:
            analyzer.entity_finder.entities("Warm-up for Ada Lovelace in London.")
        if analyzer.toxicity_scorer:
            analyzer.toxicity_scorer.score("warm-up")
        return analyzer, time.perf_counter() - started

    def describe(self) -> dict[str, Any]:
        return {
            "prompt_injection_model": MODEL_NAME,
            "encoder_precision": self.classifier.embedder.precision,
            "ml_isolation": "process" if isinstance(self.classifier.embedder, ProcessEmbedder) else "thread",
            "classifier_head": self.classifier.head_path.name,
            "ner_model": NER_MODEL if self.entity_finder else None,
            "toxicity_model": TOXICITY_MODEL if self.toxicity_scorer else None,
            "detectors": [
                "regex",
                DETECTOR,
                *([HARMFUL_DETECTOR] if self.harmful_threshold is not None else []),
                *([SECOND_OPINION_DETECTOR] if self.second_opinion_floor is not None else []),
                *([NER_DETECTOR] if self.entity_finder else []),
                *([TOXICITY_DETECTOR] if self.toxicity_scorer else []),
            ],
            "voting_mode": "regex+ml (agreement boost, single-detector cap)",
            "operating_point": self.operating_point,
            "ml_threshold": self.threshold,
            "harmful_request_threshold": self.harmful_threshold,
            "over_defence": self.over_defence,
            "rule_veto_below": self.rule_veto_below,
            "second_opinion": (
                {
                    "model": SECOND_OPINION_DETECTOR,
                    "asked_from_score": self.second_opinion_floor,
                    "threshold": self.second_opinion_bar,
                }
                if self.second_opinion_floor is not None
                else None
            ),
        }

    def warm(self, texts: Sequence[str]) -> None:
        self.classifier.scores([normalise(t) for t in texts if t])

    def analyze_request(
        self, text: str, now: dt.datetime | None = None, *, fast: bool = False
    ) -> list[SecurityFinding]:
        now = now or dt.datetime.now(dt.UTC)
        regex = self.regex.analyze_request(text, now)
        if fast or not text:
            return regex
        scores = self.classifier.scores([normalise(text)])[0]
        regex = veto_rules(regex, scores["injection"], self.rule_veto_below)
        rules_agree = any(votes(f) for f in regex)
        bar = self.threshold if rules_agree else self.solo_threshold
        finding = ml_finding(scores["injection"], bar, DETECTOR, now)
        if finding is None and not rules_agree:
            finding = self._decoded_injection(normalise(text), now)
        if (
            finding is None
            and self.second_opinion_floor is not None
            and scores["injection"] >= self.second_opinion_floor
        ):
            second = self.classifier.embedder.second_opinion_scores([normalise(text)])[0]
            finding = second_opinion_finding(
                scores["injection"], second, self.second_opinion_bar, f"{DETECTOR}+{SECOND_OPINION_DETECTOR}", now
            )
        findings = combine(regex, [finding] if finding else [])
        if self.harmful_threshold is not None:
            harmful = harmful_request_finding(scores["harmful"], self.harmful_threshold, HARMFUL_DETECTOR, now)
            findings += [harmful] if harmful else []
        if self.entity_finder:
            entities = self.entity_finder.entities(text)
            findings = self.regex.keep(merge_entities(findings, entities, NER_DETECTOR, now, "request.prompt"))
        return findings

    def _decoded_injection(self, plain: str, now: dt.datetime) -> SecurityFinding | None:
        """Re-score payloads hidden in base64, hex, rot13, reversed text or leetspeak (only when there are any)."""
        payloads = hidden_payloads(plain)[:8]
        if not payloads:
            return None
        scores = self.classifier.scores([p.text for p in payloads])
        best = max(range(len(payloads)), key=lambda i: scores[i]["injection"])
        finding = ml_finding(scores[best]["injection"], self.solo_threshold, DETECTOR, now)
        if finding is None:
            return None
        return attrs.evolve(finding, metadata={**finding.metadata, "decoded_from": payloads[best].encoding})

    def analyze_response(
        self,
        text: str,
        now: dt.datetime | None = None,
        *,
        location: str = "response.content",
        toxicity: bool | None = None,
    ) -> list[SecurityFinding]:
        now = now or dt.datetime.now(dt.UTC)
        findings = self.regex.analyze_response(text, now, location=location, toxicity=toxicity)
        if not text:
            return findings
        if self.entity_finder:
            findings = merge_entities(findings, self.entity_finder.entities(text), NER_DETECTOR, now, location)
        if self.toxicity_scorer and (self.regex.toxicity_enabled if toxicity is None else toxicity):
            score = self.toxicity_scorer.score(normalise(text))
            findings = ml_toxicity(findings, score, self.toxicity_threshold, TOXICITY_DETECTOR, now, location)
        return self.regex.keep(findings)

    def analyze_actions(self, actions: Iterable[AgentAction], now: dt.datetime | None = None) -> list[SecurityFinding]:
        return self.regex.analyze_actions(actions, now)

    def pii_matches(self, text: str) -> list[PiiMatch]:
        return self.regex.pii_matches(text)
