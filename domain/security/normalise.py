"""Text normalisation before detection, and decoding of common evasions.

Attackers hide instructions behind look-alike characters, invisible characters, diacritics and encodings. Every
detector reads ``normalise(text)``; the evasion decoders turn base64, hex, rot13, reversed and leetspeak payloads back
into text so the same patterns can look at them.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata

import attrs

# Zero-width, soft hyphen, word joiner, line/paragraph separators, bidi controls and isolates, BOM.
_INVISIBLE = dict.fromkeys(
    [
        0x200B,
        0x200C,
        0x200D,
        0x200E,
        0x200F,
        0x00AD,
        0x2060,
        0x2061,
        0x2062,
        0x2063,
        0x2064,
        0xFEFF,
        0x180E,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)
_TAGS = range(0xE0000, 0xE0080)  # Unicode tag characters ("ASCII smuggling")

_HOMOGLYPHS = {
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "х": "x", "ԝ": "w", "ь": "b", "ɡ": "g",
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M", "О": "O", "Р": "P",
    "Ѕ": "S", "Т": "T", "У": "Y", "Х": "X",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X",
    # Upside-down and other look-alikes
    "ɐ": "a", "ɔ": "c", "ǝ": "e", "ɟ": "f", "ɥ": "h", "ɯ": "m", "ɹ": "r", "ʇ": "t", "ʌ": "v", "ʍ": "w", "ʎ": "y",
    "ı": "i", "ȷ": "j", "ℓ": "l",
}  # fmt: skip
_HOMOGLYPH_TABLE = str.maketrans(_HOMOGLYPHS)


def _is_emoji(ch: str) -> bool:
    code = ord(ch)
    return 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or code in (0xFE0F, 0x20E3)


def normalise(text: str) -> str:
    """NFKC, diacritics stripped, invisible/bidi/tag characters removed, homoglyphs mapped to ASCII, emoji dropped."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    text = "".join(
        ch
        for ch in unicodedata.normalize("NFD", text)
        if not unicodedata.combining(ch) and ord(ch) not in _INVISIBLE and ord(ch) not in _TAGS and not _is_emoji(ch)
    )
    text = text.translate(_HOMOGLYPH_TABLE)
    # Braille patterns (U+2800-28FF) used as spacing or letters: drop the blank one, keep others as-is.
    text = text.replace("\u2800", " ")
    return unicodedata.normalize("NFC", text)


def hidden_characters(text: str) -> int:
    """How many invisible, bidi or tag characters the text carries (a signal of its own)."""
    return sum(1 for ch in text if ord(ch) in _INVISIBLE or ord(ch) in _TAGS)


@attrs.frozen
class Decoded:
    encoding: str
    text: str


_B64 = re.compile(r"(?:[A-Za-z0-9+/]{4}){5,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}[\s:]?){10,}\b")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})


def _printable_ratio(text: str) -> float:
    if not text:
        return 0.0
    return sum(1 for ch in text if ch.isprintable() or ch in "\n\t") / len(text)


def decode_evasions(text: str) -> list[Decoded]:
    """Candidate plain texts hidden in ``text``: base64 and hex runs, rot13, reversed text, leetspeak.

    The caller decides whether a decoded text is suspicious; this only decodes.
    """
    out: list[Decoded] = []
    for match in _B64.finditer(text):
        token = match.group(0)
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=False)
            decoded = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if _printable_ratio(decoded) > 0.9 and any(ch.isalpha() for ch in decoded):
            out.append(Decoded("base64", decoded))
    for match in _HEX.finditer(text):
        digits = re.sub(r"[\s:]", "", match.group(0))
        if len(digits) % 2:
            digits = digits[:-1]
        try:
            decoded = bytes.fromhex(digits).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        if _printable_ratio(decoded) > 0.9 and any(ch.isalpha() for ch in decoded):
            out.append(Decoded("hex", decoded))
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) >= 12:
        out.append(Decoded("rot13", codecs.decode(text, "rot13")))
        out.append(Decoded("reversed", text[::-1]))
    if re.search(r"[a-zA-Z][0-9@$!][a-zA-Z]", text):
        out.append(Decoded("leetspeak", text.translate(_LEET)))
    return out
