"""Hostile bytes at the boundary where they become domain strings, and hostile request targets."""

from __future__ import annotations

import gzip
import json

import pytest

from adapters.http.forwarder import UpstreamTarget, _Outcome
from domain.capture import analysed_part, decode_content
from domain.json_text import clean_text, parse_json, prune_depth


def test_deep_nesting_is_pruned_not_fatal() -> None:
    text = '{"messages": [{"content": "hi"}], "metadata": ' + "[" * 5000 + "]" * 5000 + "}"
    parsed = parse_json(text, max_depth=64)
    assert parsed.pruned
    assert parsed.value["messages"] == [{"content": "hi"}]


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    text = json.dumps({"a": "[" * 500 + "{" * 500})
    parsed = parse_json(text, max_depth=8)
    assert not parsed.pruned and parsed.value == json.loads(text)


def test_pruning_keeps_everything_up_to_the_limit() -> None:
    pruned, changed = prune_depth("[[[[1]]], 2]", max_depth=2)
    assert changed and json.loads(pruned) == [[None], 2]


def test_lone_surrogates_are_replaced_and_pairs_kept() -> None:
    value = parse_json(b'{"a\\udc00": ["x \\ud800", "\\ud83d\\ude00"]}').value
    assert value == {"a\ufffd": ["x \ufffd", "\U0001f600"]}
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # encodable everywhere now
    assert clean_text("ok") == "ok"


@pytest.mark.parametrize("bad", [b"", b"{", b"\xff\xfe", b'{"a": 1} trailing'])
def test_what_is_not_json_is_a_value_error(bad: bytes) -> None:
    with pytest.raises(ValueError):
        parse_json(bad)


def test_decompression_is_bounded() -> None:
    bomb = gzip.compress(b"0" * 50_000_000)
    decoded, cut = decode_content(bomb, "gzip", limit=1_000_000)
    assert decoded is not None and len(decoded) == 1_000_000 and cut
    small, cut = decode_content(gzip.compress(b"hello"), "gzip")
    assert (small, cut) == (b"hello", False)
    assert decode_content(b"not gzip", "gzip") == (None, False)
    assert decode_content(b"plain", None) == (None, False)


def test_long_texts_are_analysed_by_head_and_tail() -> None:
    text = "A" * 200_000 + "Z" * 100
    part, cut = analysed_part(text, limit=1000)
    assert cut and len(part) < 1100 and part.startswith("A") and part.endswith("Z" * 100)
    assert analysed_part("short") == ("short", False)


@pytest.mark.parametrize(
    ("raw_path", "query", "expected"),
    [
        (b"/v1/chat/completions", b"", "https://api.example.com/base/v1/chat/completions"),
        (b"/v1/models", b"a=1", "https://api.example.com/base/v1/models?a=1"),
        (b"//evil.com/x", b"", "https://api.example.com/base//evil.com/x"),
        (b"/@evil.com:80/x", b"", "https://api.example.com/base/@evil.com:80/x"),
    ],
)
def test_the_upstream_host_comes_from_config_only(raw_path: bytes, query: bytes, expected: str) -> None:
    url = UpstreamTarget("https://api.example.com/base/").url_for(raw_path, query)
    assert url is not None and str(url) == expected and url.host == "api.example.com"


@pytest.mark.parametrize(
    "raw_path", [b"@127.0.0.1:9000/x", b"http://127.0.0.1/x", b"127.0.0.1:80", b"*", b"/../x", b"/a/%2E%2e/x", b"/."]
)
def test_targets_that_are_not_paths_under_the_base_are_refused(raw_path: bytes) -> None:
    assert UpstreamTarget("https://api.example.com/base").url_for(raw_path, b"") is None


@pytest.mark.parametrize(
    ("chunks", "whole"),
    [
        ([b'data: {"choices":[]}\n\n', b"data: [DONE]\n\n"], True),
        ([b'data: {"choices":[]}\n\ndata: [DO', b"NE]\r\n\r\n"], True),
        ([b'event: message_stop\ndata: {"type":"message_stop"}\n\n'], True),
        ([b'event: response.completed\ndata: {"type":"response.completed"}\n\n'], True),
        ([b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n'], False),
        ([b"data: [DONE]"], False),  # the terminal event is not complete yet
    ],
)
def test_a_client_that_closes_after_the_terminal_event_did_not_cut_the_stream(chunks: list[bytes], whole: bool) -> None:
    outcome = _Outcome(chunks=[])
    for chunk in chunks:
        outcome.previous, outcome.last = outcome.last, chunk
    assert outcome.delivered_whole() is whole


def test_a_sized_body_is_whole_once_every_byte_went_out() -> None:
    outcome = _Outcome(expected=10, delivered=9)
    assert not outcome.delivered_whole()
    outcome.delivered = 10
    assert outcome.delivered_whole()
