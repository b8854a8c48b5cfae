"""Data protection rules: finding values, replacing them in place, restoring them in whole and streamed replies."""

from __future__ import annotations

import json

import pytest

from adapters.codec import to_json
from domain.protection import (
    ProtectionPolicy,
    StreamRestorer,
    decide,
    find_sensitive,
    parse_policy,
    protect_request,
    restore_body,
)

EMAIL = "maria.lopez@acme-corp.io"
KEY = "sk-proj-Xa81bQm2Lp9Zr4Tt7Yw3Ue6Io0Pa5Sd8Fg1Hj2Kl"


def chat(content: object, **extra: object) -> bytes:
    return json.dumps({"model": "m", "messages": [{"role": "user", "content": content}], **extra}).encode()


def test_same_value_same_placeholder_and_no_reuse_of_literal_placeholders() -> None:
    body = chat(f"[EMAIL_1] is a literal; mail {EMAIL} and {EMAIL}, then bob@corp.example.org")
    protected = protect_request(body, ProtectionPolicy(mode="pseudonymise"))
    sent = json.loads(protected.body)["messages"][0]["content"]
    assert sent == "[EMAIL_1] is a literal; mail [EMAIL_2] and [EMAIL_2], then [EMAIL_3]"
    assert protected.restore == {"[EMAIL_2]": EMAIL, "[EMAIL_3]": "bob@corp.example.org"}
    assert protected.counts == {"email": 3}


def test_nothing_found_forwards_the_bytes_untouched() -> None:
    body = b'{"model":"m",   "messages":[{"role":"user","content":"hello"}]}'
    assert protect_request(body, ProtectionPolicy(mode="redact")).body is body


def test_types_limit_what_is_protected() -> None:
    policy = parse_policy({"mode": "redact", "types": ["secrets"]})
    protected = protect_request(chat(f"{EMAIL} {KEY}"), policy)
    assert json.loads(protected.body)["messages"][0]["content"] == f"{EMAIL} [REDACTED_OPENAI_KEY]"


@pytest.mark.parametrize(
    "document",
    [{"mode": "shred"}, {"on_error": "maybe"}, {"types": ["passport"]}, {"types": "pii"}, {"extra": 1}],
)
def test_bad_policies_are_named(document: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="data_protection"):
        parse_policy(document)


def test_a_non_json_body_is_protected_as_text() -> None:
    protected = protect_request(f"plain {EMAIL}".encode(), ProtectionPolicy(mode="redact"))
    assert protected.body == b"plain [REDACTED_EMAIL]"


def test_private_keys_are_protected_whole() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----"
    [found] = find_sensitive(f"my key:\n{pem}\nthanks")
    assert found.kind == "private_key" and found.end - found.start == len(pem)


def test_block_stores_the_body_redacted_and_names_types() -> None:
    policy = ProtectionPolicy(mode="block")
    decision = decide(protect_request(chat(KEY), policy), policy, "now", lambda: "id")
    assert decision.rejection is not None and decision.rejection.status == 403
    assert decision.rejection.body["error"]["types"] == ["openai_key"]
    assert KEY.encode() not in decision.body
    assert [f.finding_type for f in decision.findings] == ["secret_in_request"]
    assert KEY not in json.dumps(to_json(list(decision.findings)))


def test_whole_json_reply_is_restored_with_escaping() -> None:
    restore = {"[EMAIL_1]": 'a"b@c.io'}
    out = restore_body(b'{"text":"to [EMAIL_1] and [EMAIL_2]"}', restore)
    assert json.loads(out) == {"text": 'to a"b@c.io and [EMAIL_2]'}


def sse(*contents: str | None) -> list[bytes]:
    events = []
    for content in contents:
        delta = {} if content is None else {"content": content}
        events.append(b"data: " + json.dumps({"choices": [{"index": 0, "delta": delta}]}).encode() + b"\n\n")
    return events


def streamed_text(output: bytes) -> str:
    text = ""
    for event in output.split(b"\n\n"):
        if event.startswith(b"data: {"):
            choice = json.loads(event[6:])["choices"][0]
            text += choice["delta"].get("content") or ""
    return text


def test_a_placeholder_split_across_events_and_chunks_is_restored() -> None:
    restorer = StreamRestorer({"[EMAIL_1]": EMAIL})
    events = sse("write to [EM", "AIL", "_1] now", None)
    raw = b"".join(events) + b"data: [DONE]\n\n"
    # Feed in awkward chunk boundaries (inside events too).
    out = b"".join(restorer.feed(raw[i : i + 7]) for i in range(0, len(raw), 7)) + restorer.finish()
    assert streamed_text(out) == f"write to {EMAIL} now"
    assert out.endswith(b"data: [DONE]\n\n")


def test_nothing_but_a_possible_placeholder_is_held_back() -> None:
    restorer = StreamRestorer({"[EMAIL_1]": EMAIL})
    first = restorer.feed(sse("hello [")[0])
    assert streamed_text(first) == "hello "
    second = restorer.feed(sse("not a placeholder] ok")[0])
    assert streamed_text(second) == "[not a placeholder] ok"
    plain = sse("no brackets at all")[0]
    assert restorer.feed(plain) == plain  # byte for byte


def test_held_text_is_released_when_the_stream_moves_on() -> None:
    restorer = StreamRestorer({"[EMAIL_1]": EMAIL})
    out = b"".join(restorer.feed(e) for e in sse("ends with [EMA", None))
    assert streamed_text(out) == "ends with [EMA"


def test_unprotected_secrets_are_located_without_their_values() -> None:
    from domain.protection import locate_secrets

    body = json.dumps(
        {"model": "m", "messages": [{"role": "system", "content": "hi"}, {"role": "user", "content": f"key {KEY}"}]}
    ).encode()
    [finding] = locate_secrets(body, "now", lambda: "id")
    assert finding.finding_type == "secret_in_request" and finding.location == "messages[1] (user) content"
    assert finding.metadata["action"] == "detected" and KEY not in json.dumps(to_json(finding))
    assert locate_secrets(b"\xff\xfe", "now", lambda: "id") == []


def test_hostile_nesting_never_raises_past_the_policy() -> None:
    from domain.protection import locate_secrets

    deep = (
        b'{"model":"m","metadata":'
        + b"[" * 5000
        + b"]" * 5000
        + b',"messages":[{"role":"user","content":"'
        + (KEY.encode() + b'"}]}')
    )
    with pytest.raises(ValueError, match="nested deeper"):
        protect_request(deep, ProtectionPolicy(mode="redact"))  # the proxy's on_error decides
    assert locate_secrets(deep, "now", lambda: "id") == []  # capture goes on; the analysis reads the text
    assert (
        restore_body(b'{"a":' + b"[" * 5000 + b'"[EMAIL_1]"' + b"]" * 5000 + b"}", {"[EMAIL_1]": EMAIL}).count(
            EMAIL.encode()
        )
        == 1
    )
    restorer = StreamRestorer({"[EMAIL_1]": EMAIL})
    event = b'data: {"choices":' + b"[" * 5000 + b"]" * 5000 + b"}\n\n"
    assert restorer.feed(event) == event
