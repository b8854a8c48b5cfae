"""Where bytes become domain strings: JSON parsed with a bounded depth, text with no lone surrogates.

Every body the proxy reads (requests, responses, SSE events, API and OTLP-JSON payloads) goes through
``parse_json``, so two kinds of hostile input are handled once, here, instead of failing somewhere downstream:

- **deep nesting**: ``json.loads`` raises ``RecursionError`` near 1,000 levels, and walking a 900-level document
  recursively is no better. Containers nested deeper than ``max_depth`` are replaced by ``None`` (the rest of the
  document is kept), and the caller learns that something was pruned, so a body can never evade capture by being
  deep somewhere irrelevant.
- **lone UTF-16 surrogates** (``"\\ud800"`` is valid JSON) cannot be encoded as UTF-8 and poison any store that
  writes text. They are replaced by U+FFFD in every string, keys included.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs

MAX_DEPTH = 64

# A JSON string (runs of ordinary characters, or escapes) or a bracket. Scanning with it skips string contents in C.
_TOKENS = re.compile(r'"(?:[^"\\]+|\\.)*"|[\[\]{}]', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@attrs.frozen
class ParsedJson:
    value: Any
    pruned: bool = False  # containers deeper than the limit were replaced by null


def clean_text(text: str) -> str:
    """The text with every lone surrogate replaced by U+FFFD (valid pairs were already combined by the decoder)."""
    if _LONE_SURROGATE.search(text) is None:
        return text
    return _LONE_SURROGATE.sub("\ufffd", text)


def _clean_value(value: Any) -> Any:
    stack: list[Any] = [value]
    root: list[Any] = [value]
    # Iterative: the value is at most MAX_DEPTH deep, but an explicit stack costs nothing and cannot overflow.
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items = list(node.items())
            node.clear()
            for key, item in items:
                cleaned = clean_text(item) if isinstance(item, str) else item
                node[clean_text(key)] = cleaned
                if isinstance(cleaned, dict | list):
                    stack.append(cleaned)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, str):
                    node[index] = clean_text(item)
                elif isinstance(item, dict | list):
                    stack.append(item)
    value = root[0]
    return clean_text(value) if isinstance(value, str) else value


def prune_depth(text: str, max_depth: int = MAX_DEPTH) -> tuple[str, bool]:
    """The JSON text with every container deeper than ``max_depth`` replaced by ``null``; linear, never recursive."""
    pieces: list[str] = []
    depth = 0
    skip_from = -1  # position of the opening bracket of the container being dropped
    kept_until = 0
    pruned = False
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth == max_depth + 1 and skip_from < 0:
                skip_from = match.start()
        elif token in ("]", "}"):
            if depth == max_depth + 1 and skip_from >= 0:
                pieces.append(text[kept_until:skip_from])
                pieces.append("null")
                kept_until = match.end()
                skip_from = -1
                pruned = True
            depth -= 1
    if not pruned:
        return text, False
    pieces.append(text[kept_until:] if skip_from < 0 else text[kept_until:skip_from] + "null")
    return "".join(pieces), True


def _might_be_deep(text: str, max_depth: int) -> bool:
    return text.count("[") + text.count("{") > max_depth


def parse_json(data: bytes | str, max_depth: int = MAX_DEPTH) -> ParsedJson:
    """Parse JSON; raises ``ValueError`` (or ``UnicodeDecodeError``) for what is not JSON, never RecursionError."""
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    pruned = False
    if _might_be_deep(text, max_depth):
        text, pruned = prune_depth(text, max_depth)
    try:
        value = json.loads(text)
    except RecursionError as exc:  # unreachable after pruning; kept so the promise above holds regardless
        raise ValueError("JSON nested too deeply") from exc
    if _SURROGATE_ESCAPE.search(text) is not None:
        value = _clean_value(value)
    return ParsedJson(value, pruned)


def loads(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    return parse_json(data, max_depth).value
