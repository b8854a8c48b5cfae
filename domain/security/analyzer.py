"""The rule-based security analyzer: request side, response side and agent actions, as pure functions over text.

``RegexSecurityAnalyzer`` is what the proxy runs by default and what ``llmtrace-eval --analyzer regex`` measures.
Findings below the operating point's confidence threshold for their category are dropped (reference section 4.6).
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence

import attrs

from domain.findings import SecurityFinding, Severity, one_per_fact
from domain.protection import find_secrets, protected_summary
from domain.security.leakage import (
    ANY_SECRET,
    ANY_TOXICITY,
    DANGEROUS_COMMANDS,
    IP_URL,
    SECRET_PATTERNS,
    SENSITIVE_FILES,
    SUSPICIOUS_HOSTS,
    TOXICITY_PATTERNS,
)
from domain.security.normalise import decode_evasions, normalise
from domain.security.patterns import AUXILIARY, MANY_SHOT_TURN, MANY_SHOT_TURNS, PATTERNS, SUSPICIOUS_DECODED
from domain.security.pii import PhoneFinder, PiiMatch, find_pii
from domain.traces import ActionType, AgentAction

INJECTION_TYPES = frozenset(
    {
        "prompt_injection",
        "role_injection",
        "encoding_attack",
        "synonym_injection",
        "p2sql_injection",
        "shell_injection",
        "prompt_extraction",
        "data_exfiltration",
        "header_injection",
        "is_shot_attack",
        "ml_prompt_injection",
    }
)
LEAKAGE_TYPES = frozenset({"data_leakage", "secret_leakage", "secret_in_request"})

# Minimum confidence per category and operating point (reference 4.6 step 7).
THRESHOLDS: Mapping[str, Mapping[str, float]] = {
    "high_recall": {"injection": 0.50, "jailbreak": 0.50, "pii": 0.40, "toxicity": 0.45, "leakage": 0.45},
    "balanced": {"injection": 0.75, "jailbreak": 0.75, "pii": 0.60, "toxicity": 0.65, "leakage": 0.65},
    "high_precision": {"injection": 0.90, "jailbreak": 0.90, "pii": 0.80, "toxicity": 0.85, "leakage": 0.85},
}


def category_of(finding_type: str) -> str | None:
    if finding_type == "jailbreak":
        return "jailbreak"
    if finding_type in INJECTION_TYPES:
        return "injection"
    if finding_type in ("pii_detected", "pii_in_request"):
        return "pii"
    if finding_type in ("toxicity", "output_toxicity"):
        return "toxicity"
    if finding_type in LEAKAGE_TYPES:
        return "leakage"
    return None


def _tag_characters(text: str) -> str:
    """Text hidden in Unicode tag characters (U+E0020-E007E mirror printable ASCII)."""
    return "".join(chr(ord(ch) - 0xE0000) for ch in text if 0xE0020 <= ord(ch) <= 0xE007E)


@attrs.define
class _Collector:
    location: str
    now: dt.datetime
    findings: list[SecurityFinding] = attrs.field(factory=list)
    _seen: set[str] = attrs.field(factory=set)

    def add(
        self,
        key: str,
        finding_type: str,
        severity: Severity,
        confidence: float,
        description: str,
        metadata: Mapping[str, str] | None = None,
        location: str | None = None,
    ) -> None:
        if key in self._seen:
            return
        self._seen.add(key)
        self.findings.append(
            SecurityFinding(
                id=str(uuid.uuid4()),
                severity=severity,
                finding_type=finding_type,
                description=description,
                confidence=round(min(max(confidence, 0.0), 1.0), 4),
                location=location or self.location,
                detected_at=self.now.isoformat().replace("+00:00", "Z"),
                metadata=dict(metadata or {}),
                requires_alert=severity >= Severity.HIGH,
            )
        )


class RegexSecurityAnalyzer:
    name = "regex"

    def __init__(
        self,
        *,
        operating_point: str = "balanced",
        phone_finder: PhoneFinder | None = None,
        toxicity_enabled: bool = True,
    ) -> None:
        self.thresholds = THRESHOLDS[operating_point]
        self.phone_finder = phone_finder
        self.toxicity_enabled = toxicity_enabled

    # -- filtering ----------------------------------------------------------------------------------------------
    def keep(self, findings: Iterable[SecurityFinding]) -> list[SecurityFinding]:
        kept = []
        for finding in findings:
            category = category_of(finding.finding_type)
            if category is None or finding.confidence >= self.thresholds[category]:
                kept.append(finding)
        return kept

    # -- request side -------------------------------------------------------------------------------------------
    def warm(self, texts: Sequence[str]) -> None:
        return None

    def analyze_request(
        self, text: str, now: dt.datetime | None = None, *, fast: bool = False
    ) -> list[SecurityFinding]:
        collector = _Collector("request.prompt", now or dt.datetime.now(dt.UTC))
        if not text:
            return []
        plain = normalise(text)
        self._injection(plain, collector, {})
        hidden = _tag_characters(text)
        if hidden:
            collector.add(
                "unicode_tags",
                "encoding_attack",
                Severity.HIGH,
                0.9,
                "Text hidden in invisible Unicode tag characters",
                {"decoded_from": "unicode_tags"},
            )
            self._injection(normalise(hidden), collector, {"decoded_from": "unicode_tags"})
        if not any(f.finding_type in INJECTION_TYPES or f.finding_type == "jailbreak" for f in collector.findings):
            self._evasions(plain, collector)
        self._structure(plain, collector)
        self._pii(text, collector, "request.prompt")
        self._secrets_in_request(text, collector)
        return one_per_fact(self.keep(collector.findings))

    def _secrets_in_request(self, text: str, collector: _Collector) -> None:
        """A credential pasted into a prompt (the commonest leak through a gateway); never the value itself."""
        secrets = find_secrets(text)
        if not secrets:
            return
        counts: dict[str, int] = {}
        for value in secrets:
            counts[value.kind] = counts.get(value.kind, 0) + 1
        summary = protected_summary(counts)
        collector.add(
            "secret_in_request",
            "secret_in_request",
            Severity.HIGH,
            0.95,
            f"Secrets in the request: {summary}",
            {"types": ",".join(sorted(counts)), "counts": summary, "action": "detected"},
        )

    def _injection(self, text: str, collector: _Collector, extra: Mapping[str, str]) -> None:
        text = text.lower()  # the catalogue is compiled case-sensitive over lower-cased text
        # ``matched_text`` (the matched phrase, lower-cased, at most 200 characters) lets a reader see what tripped the
        # rule; these patterns match instructions, never secrets or personal data, which are reported by location.
        for pattern in PATTERNS:
            if match := pattern.regex.search(text):
                collector.add(
                    pattern.name,
                    pattern.finding_type,
                    pattern.severity,
                    pattern.confidence,
                    f"Potential {pattern.finding_type.replace('_', ' ')} detected ({pattern.name.replace('_', ' ')})",
                    {"pattern_name": pattern.name, "matched_text": match.group(0)[:200], **extra},
                )
        for pattern in AUXILIARY:
            if match := pattern.regex.search(text):
                collector.add(
                    pattern.name,
                    pattern.finding_type,
                    pattern.severity,
                    pattern.confidence,
                    f"Persuasion signal: {pattern.name.replace('_', ' ')}",
                    {"pattern_name": pattern.name, "matched_text": match.group(0)[:200]},
                )

    def _evasions(self, plain: str, collector: _Collector) -> None:
        plain_suspicious = bool(SUSPICIOUS_DECODED.search(plain))
        for decoded in decode_evasions(plain):
            text = normalise(decoded.text)
            if decoded.encoding in ("rot13", "reversed", "leetspeak") and plain_suspicious:
                continue
            if SUSPICIOUS_DECODED.search(text):
                collector.add(
                    f"evasion_{decoded.encoding}",
                    "encoding_attack",
                    Severity.HIGH,
                    0.85 if decoded.encoding in ("base64", "hex") else 0.8,
                    f"Instructions hidden with {decoded.encoding} encoding",
                    {"decoded_from": decoded.encoding, "jailbreak_type": "encoding_evasion"},
                )
                self._injection(text, collector, {"decoded_from": decoded.encoding})

    def _structure(self, text: str, collector: _Collector) -> None:
        turns = len(MANY_SHOT_TURN.findall(text))
        if turns >= 3:
            # A few embedded question/answer turns are how people write few-shot prompts: alone they are a Low signal
            # (what the turns say is judged by the other patterns and the model). Many-shot jailbreaking needs many
            # shots to move a model: from MANY_SHOT_TURNS on, the structure alone is High.
            many = turns >= MANY_SHOT_TURNS
            collector.add(
                "many_shot",
                "is_shot_attack",
                Severity.HIGH if many else Severity.LOW,
                min(0.7 + 0.03 * turns, 0.95),
                f"{'Many' if many else 'Few'}-shot pattern: {turns} embedded question/answer turns",
                {"turns": str(turns)},
            )
        length = len(text)
        if length >= 100_000:
            collector.add(
                "flood_length",
                "context_flooding",
                Severity.HIGH,
                min(0.8 + 0.05 * (length // 100_000 - 1), 0.99),
                f"Context flooding: {length} characters",
                {"length": str(length)},
            )
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            _line, count = collections.Counter(lines).most_common(1)[0]
            if count > 20:
                collector.add(
                    "flood_lines",
                    "context_flooding",
                    Severity.MEDIUM,
                    min(0.6 + count / 200, 0.95),
                    f"Context flooding: one line repeated {count} times",
                    {"repeats": str(count)},
                )
        words = re.findall(r"\S+", text)
        if len(words) >= 50:
            trigrams = [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
            repeated = 1 - len(set(trigrams)) / len(trigrams)
            if repeated > 0.6:
                collector.add(
                    "flood_repetition",
                    "context_flooding",
                    Severity.MEDIUM,
                    0.7,
                    f"Context flooding: {repeated:.0%} repeated word sequences",
                )
        if length >= 5000:
            counts = collections.Counter(text)
            entropy = -sum(c / length * math.log2(c / length) for c in counts.values())
            if entropy < 2.0:
                collector.add(
                    "flood_entropy",
                    "context_flooding",
                    Severity.MEDIUM,
                    0.7,
                    f"Context flooding: low-entropy text ({entropy:.2f} bits/char)",
                )

    def _pii(self, text: str, collector: _Collector, location: str) -> list[PiiMatch]:
        matches = find_pii(text, self.phone_finder)
        by_type: dict[str, PiiMatch] = {}
        for match in matches:
            by_type.setdefault(match.pii_type, match)
        for pii_type, match in by_type.items():
            count = sum(1 for m in matches if m.pii_type == pii_type)
            collector.add(
                f"pii_{pii_type}",
                "pii_detected",
                Severity.MEDIUM,
                match.confidence,
                f"PII detected: {pii_type.replace('_', ' ')} ({count})",
                {"pii_type": pii_type, "count": str(count)},
                location,
            )
        return matches

    def pii_matches(self, text: str) -> list[PiiMatch]:
        return find_pii(text, self.phone_finder)

    # -- response side ------------------------------------------------------------------------------------------
    def analyze_response(
        self,
        text: str,
        now: dt.datetime | None = None,
        *,
        location: str = "response.content",
        toxicity: bool | None = None,
    ) -> list[SecurityFinding]:
        collector = _Collector(location, now or dt.datetime.now(dt.UTC))
        if not text:
            return []
        self._leakage(text, collector)
        self._pii(text, collector, location)
        if self.toxicity_enabled if toxicity is None else toxicity:
            self._toxicity(normalise(text), collector)
        return self.keep(collector.findings)

    def _leakage(self, text: str, collector: _Collector) -> None:
        if not ANY_SECRET.search(text):
            return
        for pattern in SECRET_PATTERNS:
            if pattern.regex.search(text):
                collector.add(
                    pattern.name,
                    pattern.finding_type,
                    pattern.severity,
                    pattern.confidence,
                    f"Possible secret in text: {pattern.name.replace('_', ' ')}",
                    {"pattern_name": pattern.name},
                )

    def _toxicity(self, text: str, collector: _Collector) -> None:
        if not ANY_TOXICITY.search(text):
            return
        for category, (base, patterns) in TOXICITY_PATTERNS.items():
            hits = sum(1 for p in patterns if p.search(text))
            if not hits:
                continue
            score = min(base + 0.1 * (hits - 1), 0.95)
            severity = (
                Severity.CRITICAL
                if score >= 0.9 or category == "severe_toxic"
                else Severity.HIGH
                if score >= 0.8 or category == "threat"
                else Severity.MEDIUM
            )
            collector.add(
                f"toxicity_{category}",
                "output_toxicity",
                severity,
                score,
                f"Toxic content: {category.replace('_', ' ')}",
                {"category": category},
            )

    # -- agent actions ------------------------------------------------------------------------------------------
    def analyze_actions(self, actions: Iterable[AgentAction], now: dt.datetime | None = None) -> list[SecurityFinding]:
        collector = _Collector("agent_action", now or dt.datetime.now(dt.UTC))
        for action in actions:
            text = " ".join(part for part in (action.name, action.arguments or "") if part)
            text = text.replace("\\/", "/")
            kind = {ActionType.WEB_ACCESS: "web_access", ActionType.FILE_ACCESS: "file_access"}.get(
                action.action_type, "command"
            )
            meta = {"action_id": action.id, "action_name": action.name}
            for name, severity, confidence, regex in DANGEROUS_COMMANDS:
                if regex.search(text):
                    finding_type = "encoding_attack" if name == "decode_and_execute" else "dangerous_command"
                    collector.add(
                        f"{action.id}:{name}",
                        finding_type,
                        severity,
                        confidence,
                        f"Dangerous command in agent action '{action.name}': {name.replace('_', ' ')}",
                        {**meta, "pattern_name": name},
                        "agent_action.command",
                    )
            for match in IP_URL.finditer(text):
                if match.group(1) not in ("127.0.0.1", "0.0.0.0"):
                    collector.add(
                        f"{action.id}:ip_url",
                        "suspicious_url",
                        Severity.MEDIUM,
                        0.7,
                        f"Agent action '{action.name}' reaches a raw IP address",
                        {**meta, "host": match.group(1)},
                        "agent_action.web_access",
                    )
            lowered = text.lower()
            for host in SUSPICIOUS_HOSTS:
                if host in lowered or (host.endswith(".onion") and ".onion" in lowered):
                    collector.add(
                        f"{action.id}:host",
                        "suspicious_url",
                        Severity.HIGH,
                        0.8,
                        f"Agent action '{action.name}' reaches {host}",
                        {**meta, "host": host},
                        "agent_action.web_access",
                    )
            if ".onion" in lowered:
                collector.add(
                    f"{action.id}:onion",
                    "suspicious_url",
                    Severity.HIGH,
                    0.8,
                    f"Agent action '{action.name}' reaches a Tor hidden service",
                    meta,
                    "agent_action.web_access",
                )
            file_match = SENSITIVE_FILES.search(text)
            if file_match:
                collector.add(
                    f"{action.id}:file",
                    "sensitive_file_access",
                    Severity.HIGH,
                    0.9,
                    f"Agent action '{action.name}' touches a sensitive file",
                    {**meta, "kind": kind},
                    "agent_action.file_access",
                )
        return collector.findings
