"""PII detection with validation and false-positive suppression, and redaction to ``[PII:TYPE]`` tags.

Each candidate is validated (Luhn for cards, ISO 7064 mod-97 for IBANs, SSA rules for SSNs, mod-11 for NHS numbers,
Luhn for Canadian SINs) and dropped when it sits in a fenced or indented code block, inside a URL, or is an obvious
placeholder. Phone numbers come from an injected ``PhoneFinder`` (the adapter uses Google's libphonenumber port,
which knows every country's numbering plan); a conservative regex is the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import attrs

PhoneFinder = Callable[[str], Iterable[tuple[int, int]]]


@attrs.frozen
class PiiMatch:
    pii_type: str
    start: int
    end: int
    confidence: float


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    compact = re.sub(r"\s", "", text).upper()
    if not 15 <= len(compact) <= 34 or not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def ssn_valid(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area >= "900" or group == "00" or serial == "0000":
        return False
    return digits not in ("123456789", "078051120", "219099999")


def nhs_valid(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    if len(digits) != 10:
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _placeholder(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    lowered = value.lower()
    if re.search(r"x{3,}|\*{3,}|#{3,}", lowered):
        return True
    # Runs such as 0000 0000 or 1234-5678-9012 are fillers; a digit or two in an address ("raj_3@...") are not.
    mostly_digits = len(digits) >= 6 and len(digits) * 2 >= len(re.sub(r"[\s().-]", "", value))
    if mostly_digits and (
        len(set(digits)) == 1 or digits in "01234567890123456789" or digits in "98765432109876543210"
    ):
        return True
    return bool(re.search(r"@(?:example\.(?:com|org|net)|test\.com|domain\.com|email\.com)\b", lowered)) or (
        lowered.startswith(("user@", "name@", "you@", "someone@", "john.doe@", "jane.doe@"))
    )


_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_UK_NIN = re.compile(r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
_NHS = re.compile(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b")
_SIN = re.compile(r"\b\d{3}[ -]\d{3}[ -]\d{3}\b")
_PHONE_FALLBACK = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[.-])\d{3}[.-]\d{4}\b")
_DIGIT_RUN = re.compile(r"\d[\d\s().-]{4,}\d")
_FENCE = re.compile(r"```")
_URL = re.compile(r"https?://\S+")


def _in_code(text: str, start: int) -> bool:
    if len(_FENCE.findall(text, 0, start)) % 2 == 1:
        return True
    line_start = text.rfind("\n", 0, start) + 1
    line = text[line_start : text.find("\n", start) if text.find("\n", start) >= 0 else len(text)]
    return line.startswith(("    ", "\t"))


def _in_url(text: str, start: int, end: int) -> bool:
    return any(m.start() <= start and end <= m.end() for m in _URL.finditer(text))


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _windows(text: str, marker: str, before: int, after: int) -> list[tuple[int, int]]:
    spans = []
    at = text.find(marker)
    while at >= 0:
        spans.append((max(0, at - before), min(len(text), at + after)))
        at = text.find(marker, at + 1)
    return _merge(spans)


def _digit_windows(text: str) -> list[tuple[int, int]]:
    """Around each run of digits: enough before for an IBAN's country code, a "+44" or the words that give an NHS
    or SIN number its context, and after for a National Insurance number's final letter."""
    return _merge((max(0, m.start() - 40), min(len(text), m.end() + 8)) for m in _DIGIT_RUN.finditer(text))


def find_pii(text: str, phone_finder: PhoneFinder | None = None, *, include_code: bool = False) -> list[PiiMatch]:
    """Validated PII spans, left to right, not overlapping. Values inside code blocks are skipped unless
    ``include_code`` (analysis skips them to spare sample data in code; protection must not)."""
    found: list[PiiMatch] = []
    if "@" not in text and not _DIGIT_RUN.search(text):
        return found  # every PII type here needs an @ or a run of digits

    def add(pii_type: str, start: int, end: int, confidence: float) -> None:
        value = text[start:end]
        if _placeholder(value) or (not include_code and _in_code(text, start)):
            return
        if pii_type != "email" and _in_url(text, start, end):
            return
        if any(not (end <= m.start or start >= m.end) for m in found):
            return
        found.append(PiiMatch(pii_type, start, end, confidence))

    # Every type but email lives around a run of digits, and email around an "@": the patterns (and the phone
    # matcher, the slowest part) run only on those windows of the text, not over all of it.
    for lo, hi in _windows(text, "@", 64, 256):
        for m in _EMAIL.finditer(text, lo, hi):
            if not _in_url(text, m.start(), m.end()) or "mailto:" in text[max(0, m.start() - 7) : m.start()]:
                add("email", m.start(), m.end(), 0.9)
    for lo, hi in _digit_windows(text):
        for m in _SSN.finditer(text, lo, hi):
            if ssn_valid(m.group(0)):
                add("ssn", m.start(), m.end(), 0.95)
        for m in _IBAN.finditer(text, lo, hi):
            if iban_valid(m.group(0)):
                add("iban", m.start(), m.end(), 0.85)
        for m in _CARD.finditer(text, lo, hi):
            digits = re.sub(r"\D", "", m.group(0))
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                add("credit_card", m.start(), m.end(), 0.9)
        for m in _UK_NIN.finditer(text, lo, hi):
            add("uk_nin", m.start(), m.end(), 0.85)
        for m in _NHS.finditer(text, lo, hi):
            context = text[max(0, m.start() - 40) : m.start()]
            if nhs_valid(m.group(0)) and re.search(r"\bnhs\b", context, re.IGNORECASE):
                add("nhs_number", m.start(), m.end(), 0.8)
        for m in _SIN.finditer(text, lo, hi):
            digits = re.sub(r"\D", "", m.group(0))
            context = text[max(0, m.start() - 40) : m.start()].lower()
            if luhn_valid(digits) and ("sin" in context or "social insurance" in context):
                add("canadian_sin", m.start(), m.end(), 0.8)
        runs = list(_DIGIT_RUN.finditer(text, lo, hi))
        if all(any(f.start <= r.start() and r.end() <= f.end for f in found) for r in runs):
            continue  # every digit run here is already a card, an IBAN, ...: the phone matcher has nothing left
        phones = (
            ((lo + a, lo + b) for a, b in phone_finder(text[lo:hi]))
            if phone_finder is not None
            else ((m.start(), m.end()) for m in _PHONE_FALLBACK.finditer(text, lo, hi))
        )
        for start, end in phones:
            add("phone_number", start, end, 0.85)
    found.sort(key=lambda m: m.start)
    return found


def redact(text: str, matches: Iterable[PiiMatch]) -> str:
    """Replace each match with ``[PII:TYPE]``."""
    out: list[str] = []
    position = 0
    for match in sorted(matches, key=lambda m: m.start):
        if match.start < position:
            continue
        out.append(text[position : match.start])
        out.append(f"[PII:{match.pii_type.upper()}]")
        position = match.end
    out.append(text[position:])
    return "".join(out)
