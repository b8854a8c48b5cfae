"""Secrets and leakage in text (usually responses), dangerous agent actions, and keyword toxicity."""

from __future__ import annotations

import re

from domain.findings import Severity
from domain.security.patterns import Pattern

C, H, M = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM


SECRET_PATTERNS: tuple[Pattern, ...] = tuple(
    Pattern(name, kind, sev, conf, re.compile(rx))
    for name, kind, sev, conf, rx in [
        ("jwt", "secret_leakage", C, 0.95, r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        ("aws_access_key", "secret_leakage", C, 0.95, r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
        (
            "aws_secret_key",
            "secret_leakage",
            C,
            0.9,
            r"(?i)aws_?secret_?(?:access_?)?key\W{0,5}[\"']?[A-Za-z0-9/+=]{40}\b",
        ),
        ("github_token", "secret_leakage", C, 0.95, r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36,}\b"),
        ("github_pat", "secret_leakage", C, 0.95, r"\bgithub_pat_[A-Za-z0-9_]{60,}\b"),
        ("slack_token", "secret_leakage", C, 0.9, r"\bxox[bpars]-[A-Za-z0-9-]{10,}"),
        (
            "private_key",
            "secret_leakage",
            C,
            0.95,
            r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY",
        ),
        (
            "gcp_service_account",
            "secret_leakage",
            H,
            0.9,
            r"\"type\"\s*:\s*\"service_account\"[\s\S]{0,400}\"private_key|\"private_key\"\s*:\s*\"-----BEGIN",
        ),
        ("openai_key", "secret_leakage", C, 0.9, r"\bsk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{32,}"),
        ("stripe_key", "secret_leakage", C, 0.9, r"\b(?:sk|rk)_live_[A-Za-z0-9]{20,}"),
        ("google_api_key", "secret_leakage", H, 0.85, r"\bAIza[0-9A-Za-z_-]{35}\b"),
        (
            "credential_assignment",
            "data_leakage",
            C,
            0.9,
            r"(?i)\b(?:api[_-]?key|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token|password|passwd)"
            r"\s*[:=]\s*[\"']?(?!\*{3}|x{3}|<|\{|your|placeholder|changeme|example)[A-Za-z0-9_\-+/=.!@#$%^&]{8,}",
        ),
        (
            "system_prompt_leak",
            "data_leakage",
            H,
            0.85,
            r"(?i)\b(?:my|the) (?:system prompt|initial instructions|system instructions) (?:is|are|says?|reads?)\s*:",
        ),
    ]
)


def _scoped(pattern: str) -> str:
    return f"(?i:{pattern[4:]})" if pattern.startswith("(?i)") else f"(?:{pattern})"


# One pass over the text decides whether any secret pattern can match; the individual patterns run only then.
ANY_SECRET = re.compile("|".join(_scoped(p.regex.pattern) for p in SECRET_PATTERNS))


# Agent actions (tool calls, commands, URLs, files) ------------------------------------------------------------

DANGEROUS_COMMANDS: tuple[tuple[str, Severity, float, re.Pattern[str]], ...] = tuple(
    (name, sev, conf, re.compile(rx, re.IGNORECASE))
    for name, sev, conf, rx in [
        ("recursive_delete", C, 0.95, r"\brm\s+-(?:[a-z]*r[a-z]*f|[a-z]*f[a-z]*r)[a-z]*\b|\brm\s+-r\s+-f\b"),
        ("pipe_to_shell", C, 0.95, r"\b(?:curl|wget)\b[^|;]*\|\s*(?:sudo\s+)?(?:ba|z|k)?sh\b"),
        ("decode_and_execute", H, 0.9, r"base64\s+(?:-d|--decode)[^|;]*\|\s*(?:ba)?sh|\beval\b[^\n]*base64"),
        ("permission_change", H, 0.85, r"\bchmod\s+(?:-r\s+)?[0-7]?777\b|\bchown\s+root\b"),
        ("system_damage", H, 0.85, r"\bmkfs(?:\.\w+)?\b|\bdd\s+if=|\bpasswd\b|:\(\)\s*\{\s*:\|:&\s*\};:"),
        ("reverse_shell", C, 0.95, r"/dev/tcp/|\bnc\b[^\n]*\s-e\s|\bbash\s+-i\s+>&"),
    ]
)
SUSPICIOUS_HOSTS = ("pastebin.com", "paste.ee", "hastebin.com", "transfer.sh", "file.io", "ngrok.io", "requestbin",
                    "webhook.site")  # fmt: skip
IP_URL = re.compile(r"https?://(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?", re.IGNORECASE)
SENSITIVE_FILES = re.compile(
    r"/etc/(?:passwd|shadow|sudoers)\b|(?:^|[/\s~])\.ssh/|\bid_(?:rsa|ed25519|ecdsa)\b|\.aws/credentials|"
    r"(?:^|[/\s])\.env\b|\.gnupg/|\.kube/config|\.docker/config\.json|\.netrc\b|\.git-credentials\b",
    re.IGNORECASE,
)


# Keyword toxicity (the fallback when no model is loaded) --------------------------------------------------------

TOXICITY_LEXICON: dict[str, tuple[float, tuple[str, ...]]] = {
    "threat": (0.75, (r"\bi(?:'ll| will| am going to|'m going to) (?:kill|hurt|murder|destroy|find) you\b",
                      r"\byou(?:'re| are) (?:going to|gonna) die\b", r"\bi know where you live\b")),
    "severe_toxic": (0.85, (r"\bkill yourself\b", r"\bkys\b", r"\bgo die\b")),
    "insult": (0.6, (r"\byou(?:'re| are) (?:an? )?(?:idiot|moron|stupid|worthless|pathetic|loser)\b",
                     r"\bshut up\b", r"\bdumbass\b")),
    "obscene": (0.5, (r"\bf+u+c+k+(?:ing|er|ed)?\b", r"\bsh[i1]t\b", r"\bbitch\b", r"\bcunt\b")),
    "identity_hate": (0.7, (r"\b(?:all|those) (?:\w+ )?(?:people|immigrants|women|men) (?:are|should) "
                            r"(?:vermin|animals|die|be (?:killed|exterminated))\b",)),
}  # fmt: skip
TOXICITY_PATTERNS = {
    category: (base, tuple(re.compile(p, re.IGNORECASE) for p in patterns))
    for category, (base, patterns) in TOXICITY_LEXICON.items()
}
ANY_TOXICITY = re.compile("|".join(p for _, patterns in TOXICITY_LEXICON.values() for p in patterns), re.IGNORECASE)
