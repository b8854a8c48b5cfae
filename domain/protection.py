"""Data protection before forwarding: find secrets and personal data in a request body, then redact them, replace
them with consistent per-request placeholders (and put the originals back into the response), or refuse the
request. Pure: the proxy runs it in a worker thread and decides what a failure means (``on_error``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from domain.findings import SecurityFinding, Severity
from domain.json_text import MAX_DEPTH, parse_json
from domain.rejection import Rejection
from domain.security.pii import PhoneFinder, find_pii

MODES = ("off", "redact", "pseudonymise", "block")
ON_ERROR = ("forward", "block")

# Secrets: (kind, pattern, group holding the value). Every type the response side knows, plus a few common ones.
_SECRETS: tuple[tuple[str, re.Pattern[str], int], ...] = tuple(
    (kind, re.compile(rx), group)
    for kind, rx, group in [
        (
            "private_key",
            r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z]+ )*PRIVATE KEY-----|$)",
            0,
        ),
        ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0),
        # AWS documentation's example keys all end in EXAMPLE: look-alikes, not credentials
        ("aws_access_key", r"\b(?:AKIA|ASIA|ABIA|ACCA)(?![0-9A-Z]{9}EXAMPLE\b)[0-9A-Z]{16}\b", 0),
        ("aws_secret_key", r"(?i)aws_?secret_?(?:access_?)?key\W{0,5}[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])", 1),
        ("github_token", r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36,}\b", 0),
        ("github_token", r"\bgithub_pat_[A-Za-z0-9_]{60,}\b", 0),
        ("gitlab_token", r"\bglpat-[A-Za-z0-9_-]{20,}", 0),
        ("slack_token", r"\bxox[bpars]-[A-Za-z0-9-]{10,}", 0),
        ("anthropic_key", r"\bsk-ant-(?:api\d\d-)?[A-Za-z0-9_-]{32,}", 0),
        ("openai_key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}", 0),
        ("stripe_key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,}", 0),
        ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])", 0),
        ("huggingface_token", r"\bhf_[A-Za-z0-9]{34,}\b", 0),
        ("sendgrid_key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])", 0),
        ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b", 0),
        ("connection_string_password", r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@\"']+:([^\s@/\"']{3,})@[^\s/\"']+", 1),
        (
            "credential_assignment",
            r"(?i)\b(?:api[_-]?key|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token|password|passwd|"
            r"pwd)\s*[:=]\s*[\"']?((?!\*{3}|x{3}|<|\{|your|placeholder|changeme|example|redacted|\[)"
            r"[A-Za-z0-9_\-+/=.!@#$%^&*]{8,})",
            1,
        ),
    ]
)
SECRET_KINDS = frozenset(kind for kind, _, _ in _SECRETS)
PII_KINDS = frozenset({"email", "phone_number", "credit_card", "iban", "ssn", "uk_nin", "nhs_number", "canadian_sin"})
ALL_KINDS = SECRET_KINDS | PII_KINDS

# Published test card numbers (Stripe, Adyen, Braintree docs): look-alikes, not anyone's card.
_TEST_CARDS = frozenset(
    {
        "4242424242424242", "4000056655665556", "5555555555554444", "2223003122003222", "5200828282828210",
        "378282246310005", "371449635398431", "6011111111111117", "6011000990139424", "3056930009020004",
        "36227206271667", "3566002020360505", "6200000000000005", "4111111111111111", "4012888888881881",
        "5105105105105100", "4000000000000002", "4000000000009995",
    }
)  # fmt: skip


@attrs.frozen
class SensitiveValue:
    kind: str
    start: int
    end: int

    @property
    def category(self) -> str:
        return "secret" if self.kind in SECRET_KINDS else "pii"


# A literal every match of a pattern contains: the pattern runs only when one of its literals is in the text (a
# substring test costs a microsecond; a regex scan of 2 KB with a leading \b costs twenty). Case-insensitive
# patterns are tested against the lowercased text.
_TRIGGERS: dict[str, tuple[tuple[str, ...], bool]] = {
    "private_key": (("PRIVATE KEY",), False),
    "jwt": (("eyJ",), False),
    "aws_access_key": (("AKIA", "ASIA", "ABIA", "ACCA"), False),
    "aws_secret_key": (("aws",), True),
    "github_token": (("ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"), False),
    "gitlab_token": (("glpat-",), False),
    "slack_token": (("xox",), False),
    "anthropic_key": (("sk-ant-",), False),
    "openai_key": (("sk-",), False),
    "stripe_key": (("_live_", "_test_"), False),
    "google_api_key": (("AIza",), False),
    "huggingface_token": (("hf_",), False),
    "sendgrid_key": (("SG.",), False),
    "npm_token": (("npm_",), False),
    "connection_string_password": (("://",), False),
    "credential_assignment": (("key", "secret", "token", "pass", "pwd"), True),
}
assert set(_TRIGGERS) == SECRET_KINDS


def find_secrets(text: str) -> list[SensitiveValue]:
    """Secrets in ``text``, not overlapping, in pattern order (private keys first, assignments last)."""
    found: list[SensitiveValue] = []
    lowered: str | None = None
    for kind, pattern, group in _SECRETS:
        literals, fold = _TRIGGERS[kind]
        if fold:
            lowered = text.lower() if lowered is None else lowered
        haystack = lowered if fold and lowered is not None else text
        if not any(literal in haystack for literal in literals):
            continue
        for match in pattern.finditer(text):
            start, end = match.span(group)
            if end > start and all(end <= v.start or start >= v.end for v in found):
                found.append(SensitiveValue(kind, start, end))
    return found


def find_sensitive(text: str, phone_finder: PhoneFinder | None = None) -> list[SensitiveValue]:
    """Secrets and validated personal data in ``text``, left to right, not overlapping (a secret wins)."""
    found = find_secrets(text)

    def free(start: int, end: int) -> bool:
        return all(end <= v.start or start >= v.end for v in found)

    for pii in find_pii(text, phone_finder, include_code=True):
        if pii.pii_type == "credit_card" and re.sub(r"\D", "", text[pii.start : pii.end]) in _TEST_CARDS:
            continue
        if free(pii.start, pii.end):
            found.append(SensitiveValue(pii.pii_type, pii.start, pii.end))
    found.sort(key=lambda v: v.start)
    return found


@attrs.frozen
class ProtectionPolicy:
    """``data_protection`` from config, or a tenant's own (which wins)."""

    mode: str = "off"
    types: frozenset[str] = ALL_KINDS
    on_error: str = "block"

    @property
    def active(self) -> bool:
        return self.mode != "off"


def parse_policy(data: Mapping[str, Any] | None, base: ProtectionPolicy | None = None) -> ProtectionPolicy:
    """Validate a (partial) ``data_protection`` document; raises ValueError naming the bad field."""
    base = base or ProtectionPolicy()
    if data is None:
        return base
    if not isinstance(data, Mapping):
        raise ValueError("data_protection must be a mapping of mode, types, on_error")
    unknown = set(data) - {"mode", "types", "on_error"}
    if unknown:
        raise ValueError(f"data_protection: unknown keys {', '.join(sorted(map(str, unknown)))}")
    mode = data.get("mode", base.mode)
    if mode not in MODES:
        raise ValueError(f"data_protection.mode must be one of {', '.join(MODES)}, got {mode!r}")
    on_error = data.get("on_error", base.on_error)
    if on_error not in ON_ERROR:
        raise ValueError(f"data_protection.on_error must be forward or block, got {on_error!r}")
    types = base.types
    if data.get("types") is not None:
        raw = data["types"]
        if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
            raise ValueError("data_protection.types must be a list of type names")
        expanded: set[str] = set()
        for name in raw:
            if name in ("secrets", "secret"):
                expanded |= SECRET_KINDS
            elif name == "pii":
                expanded |= PII_KINDS
            elif name in ALL_KINDS:
                expanded.add(name)
            else:
                raise ValueError(
                    f"data_protection.types: unknown type {name!r} (known: secrets, pii, "
                    f"{', '.join(sorted(ALL_KINDS))})"
                )
        types = frozenset(expanded)
    return ProtectionPolicy(mode=str(mode), types=types, on_error=str(on_error))


def policy_to_json(policy: ProtectionPolicy) -> dict[str, Any]:
    return {"mode": policy.mode, "types": sorted(policy.types), "on_error": policy.on_error}


# Keys whose string values are identifiers, never content.
_NOT_CONTENT = frozenset(
    {"model", "role", "type", "id", "tool_call_id", "call_id", "object", "name", "stop_reason", "finish_reason",
     "response_format", "tool_choice", "service_tier", "reasoning_effort", "media_type", "detail", "format"}
)  # fmt: skip
PLACEHOLDER = re.compile(r"\[(?:REDACTED_)?[A-Z][A-Z_]*?(?:_\d+)?\]")


@attrs.frozen
class Protection:
    """The outcome for one request body."""

    body: bytes  # what goes upstream
    counts: Mapping[str, int]  # kind -> how many values were found (and protected, unless mode is block)
    locations: tuple[str, ...]  # where, e.g. "messages[1] (user) content"
    restore: Mapping[str, str]  # placeholder -> original (pseudonymise)

    @property
    def found(self) -> bool:
        return bool(self.counts)


class _Replacer:
    def __init__(self, policy: ProtectionPolicy, taken: str) -> None:
        self.policy = policy
        self.taken = taken  # placeholders already in the request are never reused
        self.pseudonyms: dict[tuple[str, str], str] = {}
        self.numbers: Counter[str] = Counter()
        self.restore: dict[str, str] = {}

    def placeholder(self, kind: str, value: str) -> str:
        label = kind.upper()
        if self.policy.mode != "pseudonymise":
            return f"[REDACTED_{label}]"
        existing = self.pseudonyms.get((kind, value))
        if existing is not None:
            return existing
        while True:
            self.numbers[label] += 1
            candidate = f"[{label}_{self.numbers[label]}]"
            if candidate not in self.taken:
                break
        self.pseudonyms[(kind, value)] = candidate
        self.restore[candidate] = value
        return candidate


def _walk(node: Any, path: str) -> Iterator[tuple[str, Any, Any, str]]:
    """(path, container, key, value) for every string that may hold content."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(value, str):
                if key not in _NOT_CONTENT:
                    yield child, node, key, value
            else:
                yield from _walk(value, child)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            child = f"{path}[{index}]"
            if isinstance(value, str):
                yield child, node, index, value
            else:
                yield from _walk(value, child)


_ITEM = re.compile(r"^(messages|input|contents)\[(\d+)\]")


def _where(path: str, data: Any) -> str:
    """A location a person can read: the message index and role when the value is inside a message."""
    match = _ITEM.match(path)
    if match and isinstance(data, dict):
        items = data.get(match.group(1))
        index = int(match.group(2))
        if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
            role = items[index].get("role")
            rest = path[match.end() :].lstrip(".") or "content"
            return f"{match.group(0)} ({role}) {rest}" if isinstance(role, str) else f"{match.group(0)} {rest}"
    return path


def protect_request(body: bytes, policy: ProtectionPolicy, phone_finder: PhoneFinder | None = None) -> Protection:
    """Find what ``policy`` covers in ``body`` and, for redact/pseudonymise, replace it in place: a JSON body stays
    JSON of the same structure; anything else is treated as one text. Raises on input it cannot read as text."""
    text = body.decode("utf-8")
    replacer = _Replacer(policy, text)
    counts: Counter[str] = Counter()
    locations: list[str] = []
    replacing = policy.active  # block replaces too: the refused request is stored redacted, never with the values

    def rewrite(value: str, where: str) -> str | None:
        hits = [v for v in find_sensitive(value, phone_finder) if v.kind in policy.types]
        if not hits:
            return None
        for hit in hits:
            counts[hit.kind] += 1
        locations.append(where)
        if not replacing:
            return None
        out, position = [], 0
        for hit in hits:
            out.append(value[position : hit.start])
            out.append(replacer.placeholder(hit.kind, value[hit.start : hit.end]))
            position = hit.end
        out.append(value[position:])
        return "".join(out)

    try:
        parsed = parse_json(text)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.pruned:
        # Rewriting would drop what lies deeper than the parser goes: the caller's on_error decides.
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    data = parsed.value if parsed is not None else None
    if not isinstance(data, (dict, list)):
        new = rewrite(text, "body")
        out = body if new is None else new.encode("utf-8")
        return Protection(out, dict(counts), tuple(locations), replacer.restore)
    changed = False
    for path, container, key, value in list(_walk(data, "")):
        new = rewrite(value, _where(path, data))
        if new is not None:
            container[key] = new
            changed = True
    out = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8") if changed else body
    return Protection(out, dict(counts), tuple(dict.fromkeys(locations)), replacer.restore)


# ---------------------------------------------------------------------------------------------------------------------
# Putting the originals back into what the client receives


def restore_text(text: str, restore: Mapping[str, str]) -> str:
    if "[" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: restore.get(m.group(0), m.group(0)), text)


def restore_body(body: bytes, restore: Mapping[str, str]) -> bytes:
    """A whole response with the placeholders replaced by the originals. Placeholders contain no quotes or
    backslashes, so in a JSON body each sits inside a string and is replaced by the JSON-escaped original: the
    body stays valid JSON, byte for byte otherwise, and nothing is parsed (no depth to exploit)."""
    if not restore or b"[" not in body:
        return body
    text = body.decode("utf-8", errors="surrogateescape")
    if text.lstrip()[:1] in ("{", "["):
        escaped = {k: json.dumps(v, ensure_ascii=False)[1:-1] for k, v in restore.items()}
        text = restore_text(text, escaped)
    else:
        text = restore_text(text, restore)
    return text.encode("utf-8", errors="surrogateescape")


_PARTIAL = re.compile(r"\[(?:[A-Z][A-Z_]*\d*)?$")
_MAX_PLACEHOLDER = 48


def _split_hold(text: str) -> tuple[str, str]:
    """(what can go out now, the tail that may be the start of a placeholder)."""
    cut = text.rfind("[")
    if cut < 0 or len(text) - cut > _MAX_PLACEHOLDER or not _PARTIAL.match(text, cut):
        return text, ""
    return text[:cut], text[cut:]


Delta = tuple[Any, Any, str]  # container, key, the text delta in it


def _deltas(data: Any) -> Iterator[tuple[tuple[Any, ...], Delta]]:
    """The streamed text fragments of one SSE event, keyed by the stream they belong to."""
    if not isinstance(data, dict):
        return
    for choice in data.get("choices") or []:  # OpenAI chat / completions
        if not isinstance(choice, dict):
            continue
        index = choice.get("index", 0)
        delta = choice.get("delta")
        if isinstance(delta, dict):
            if isinstance(delta.get("content"), str):
                yield ("chat", index), (delta, "content", delta["content"])
            for call in delta.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                    yield ("tool", index, call.get("index", 0)), (function, "arguments", function["arguments"])
        elif isinstance(choice.get("text"), str):
            yield ("text", index), (choice, "text", choice["text"])
    kind = data.get("type")
    if kind in ("response.output_text.delta", "response.function_call_arguments.delta") and isinstance(
        data.get("delta"), str
    ):
        yield ("responses", data.get("output_index"), data.get("content_index")), (data, "delta", data["delta"])
    if kind == "content_block_delta" and isinstance(data.get("delta"), dict):  # Anthropic
        delta = data["delta"]
        for field in ("text", "partial_json"):
            if isinstance(delta.get(field), str):
                yield ("anthropic", data.get("index")), (delta, field, delta[field])


class StreamRestorer:
    """Rewrites an SSE stream so the client sees its own values: text fragments are joined per stream, a fragment
    that ends in what may be the start of a placeholder is held back until the next fragment completes it (or shows
    it is not one), and complete placeholders anywhere in an event are replaced. Events with nothing to change go
    out as they came (line endings normalised to LF, which SSE treats alike)."""

    def __init__(self, restore: Mapping[str, str]) -> None:
        self._restore = dict(restore)
        self._pending = b""
        self._held: dict[tuple[Any, ...], str] = {}
        self._templates: dict[tuple[Any, ...], tuple[bytes, bytes, str]] = {}  # key -> (prefix, event JSON, field)

    def feed(self, chunk: bytes) -> bytes:
        data = self._pending + chunk
        normalised = data.replace(b"\r\n", b"\n")
        end = normalised.rfind(b"\n\n")
        if end < 0:
            self._pending = normalised
            return b""
        complete, self._pending = normalised[: end + 2], normalised[end + 2 :]
        return b"".join(self._safe_event(event + b"\n\n") for event in complete[:-2].split(b"\n\n"))

    def _safe_event(self, event: bytes) -> bytes:
        try:
            return self._event(event)
        except RecursionError:  # hostile nesting: forwarded as it came
            return event

    def finish(self) -> bytes:
        out = self._release_all()
        if self._pending:
            out += self._pending
            self._pending = b""
        return out

    def _release_all(self) -> bytes:
        out = b""
        for key, held in list(self._held.items()):
            if held and key in self._templates:
                out += self._synthetic(key, held)
        self._held.clear()
        return out

    def _synthetic(self, key: tuple[Any, ...], text: str) -> bytes:
        """The held text, in a copy of the last event of its stream."""
        prefix, payload, field = self._templates[key]
        data = json.loads(payload)
        for candidate, (container, candidate_field, _) in _deltas(data):
            if candidate == key and candidate_field == field:
                container[field] = restore_text(text, self._restore)
                break
        return prefix + b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"

    def _event(self, event: bytes) -> bytes:
        lines = event.rstrip(b"\n").split(b"\n")
        data_lines = [line for line in lines if line.startswith(b"data:")]
        if len(data_lines) != 1:
            return event
        payload = data_lines[0][5:].strip()
        if payload == b"[DONE]":
            return self._release_all() + event
        if b"[" not in payload and not self._held:
            return event
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError):  # not JSON we can rewrite: forwarded as it came
            return event
        prefix = b"".join(line + b"\n" for line in lines if not line.startswith(b"data:"))
        deltas = list(_deltas(data))
        changed = False
        for key, (container, field, text) in deltas:
            self._templates[key] = (prefix, payload, field)
            joined = self._held.pop(key, "") + text
            ready, hold = _split_hold(joined)
            if hold:
                self._held[key] = hold
            restored = restore_text(ready, self._restore)
            if restored != text:
                container[field] = restored
                changed = True
        if not deltas:
            # The stream moved on (a stop or a final event): nothing is held past it; complete placeholders in the
            # event (a final full text) are restored in place, JSON-escaped.
            out = self._release_all() if self._held else b""
            restored_payload = restore_body(payload, self._restore)
            if restored_payload == payload:
                return out + event
            return out + prefix + b"data: " + restored_payload + b"\n\n"
        if not changed:
            return event
        return prefix + b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"


def protected_summary(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{kind} x{count}" for kind, count in sorted(counts.items()))


@attrs.frozen
class ProtectionDecision:
    """What the proxy does with one request under a protection policy."""

    body: bytes  # what goes upstream (for a refused request: what is stored, redacted)
    restore: Mapping[str, str] = attrs.field(factory=dict)  # placeholder -> original, for the response
    findings: tuple[SecurityFinding, ...] = ()
    rejection: Rejection | None = None
    tag: str = ""  # the span tag data_protection


_ACTIONS = {"redact": "redacted", "pseudonymise": "pseudonymised", "block": "blocked"}


def request_findings(protection: Protection, action: str, detected_at: str, new_id: Any) -> list[SecurityFinding]:
    """One finding per category found: types, counts and where (message, role, field); never the values."""
    findings = []
    for category, kinds, finding_type, severity in (
        ("secret", SECRET_KINDS, "secret_in_request", Severity.HIGH),
        ("pii", PII_KINDS, "pii_in_request", Severity.MEDIUM),
    ):
        counts = {k: n for k, n in protection.counts.items() if k in kinds}
        if not counts:
            continue
        summary = protected_summary(counts)
        what = "Secrets" if category == "secret" else "Personal data"
        findings.append(
            SecurityFinding(
                id=str(new_id()),
                severity=severity,
                finding_type=finding_type,
                description=f"{what} in the request {action}: {summary}",
                confidence=0.95,
                location="; ".join(protection.locations)[:500],
                detected_at=detected_at,
                metadata={
                    "action": action,
                    "types": ",".join(sorted(counts)),
                    "counts": summary,
                    "count": str(sum(counts.values())),
                },
                requires_alert=category == "secret",
            )
        )
    return findings


SECRETS_ONLY = ProtectionPolicy(mode="block", types=SECRET_KINDS)


def locate_secrets(body: bytes, detected_at: str, new_id: Any) -> list[SecurityFinding]:
    """Where a request that was not protected carried secrets (off the response path, for the trace)."""
    try:
        protection = protect_request(body, SECRETS_ONLY)
    except Exception:  # noqa: BLE001 - hostile or unreadable body: the analysis of its text still runs
        return []
    return request_findings(protection, "detected", detected_at, new_id)


def decide(protection: Protection, policy: ProtectionPolicy, detected_at: str, new_id: Any) -> ProtectionDecision:
    """From what was found to what happens: findings per category (types and counts, never values), a 403 in
    block mode, the protected body otherwise."""
    if not protection.found:
        return ProtectionDecision(body=protection.body, tag=f"{policy.mode}: nothing found")
    action = _ACTIONS[policy.mode]
    findings = request_findings(protection, action, detected_at, new_id)
    tag = f"{action}: {protected_summary(protection.counts)}"
    rejection = None
    if policy.mode == "block":
        types = sorted(protection.counts)
        rejection = Rejection(
            403,
            {
                "error": {
                    "message": f"request refused: it contains {', '.join(types)} (data_protection.mode block)",
                    "type": "data_protection_blocked",
                    "types": types,
                }
            },
        )
    return ProtectionDecision(
        body=protection.body, restore=protection.restore, findings=tuple(findings), rejection=rejection, tag=tag
    )
