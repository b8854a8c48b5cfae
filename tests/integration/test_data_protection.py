"""Secrets and personal data never reach the provider: redacted, pseudonymised and restored, or refused."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.conftest import MockUpstream, Proxy, start_proxy

pytestmark = pytest.mark.integration

EMAIL = "maria.lopez@acme-corp.io"
CARD = "4556 7375 8689 9855"
OPENAI_KEY = "sk-proj-Xa81bQm2Lp9Zr4Tt7Yw3Ue6Io0Pa5Sd8Fg1Hj2Kl"
AWS_KEY = "AKIAZ3MPLQ7RWX4TNB2Y"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
PHONE = "+44 20 7946 0018"
IBAN = "DE89 3704 0044 0532 0130 00"
VALUES = (EMAIL, CARD, OPENAI_KEY, AWS_KEY, GITHUB, PHONE, IBAN)


def protected_proxy(tmp_path: Path, upstream: str, mode: str, **extra: Any) -> Proxy:
    return start_proxy(tmp_path, upstream, {"data_protection": {"mode": mode, **extra}})


def received(mock: MockUpstream) -> list[bytes]:
    return [base64.b64decode(r["body_b64"]) for r in mock.requests() if str(r["path"]).startswith("/v1/")]


def spans(proxy: Proxy, headers: dict[str, str], count: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = proxy.api("/api/v1/spans", headers=headers).json()["data"]
        if len(found) >= count and all(s["analysis_status"] != "pending" for s in found):
            return found
        time.sleep(0.05)
    raise AssertionError(f"expected {count} spans, got {found}")


def tenant() -> dict[str, str]:
    return {"X-LLMTrace-Tenant-ID": str(uuid.uuid4())}


def rich_messages() -> list[dict[str, Any]]:
    """Every place a chat prompt can hide a value: system, string and part contents, tool arguments and results."""
    return [
        {"role": "system", "content": f"Escalations go to {EMAIL}."},
        {"role": "user", "content": [{"type": "text", "text": f"My card is {CARD}, phone {PHONE}."}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "deploy", "arguments": json.dumps({"token": GITHUB, "iban": IBAN})},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": f"deployed with {AWS_KEY}"},
        {"role": "user", "content": f"Use my key {OPENAI_KEY} and mail {EMAIL} again."},
    ]


def test_redact_keeps_every_value_from_the_provider(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    proxy = protected_proxy(tmp_path, mock_upstream.url, "redact")
    try:
        mock_upstream.clear()
        headers = tenant()
        client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-t", default_headers=headers, max_retries=0)
        client.chat.completions.create(model="gpt-4o-mini", messages=rich_messages())  # type: ignore[arg-type]
        [body] = received(mock_upstream)
        text = body.decode()
        assert not any(value in text for value in VALUES)
        sent = json.loads(body)  # still JSON, same structure
        assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "tool", "user"]
        assert "[REDACTED_EMAIL]" in sent["messages"][0]["content"]
        assert "[REDACTED_CREDIT_CARD]" in sent["messages"][1]["content"][0]["text"]
        arguments = json.loads(sent["messages"][2]["tool_calls"][0]["function"]["arguments"])
        assert arguments == {"token": "[REDACTED_GITHUB_TOKEN]", "iban": "[REDACTED_IBAN]"}
        assert sent["messages"][3]["content"] == "deployed with [REDACTED_AWS_ACCESS_KEY]"
        [span] = spans(proxy, headers)
        assert not any(value in span["prompt"] for value in VALUES)
        by_type = {f["finding_type"]: f for f in span["security_findings"]}
        secret, pii = by_type["secret_in_request"], by_type["pii_in_request"]
        assert secret["metadata"]["action"] == "redacted"
        assert secret["metadata"]["counts"] == "aws_access_key x1, github_token x1, openai_key x1"
        assert pii["metadata"]["counts"] == "credit_card x1, email x2, iban x1, phone_number x1"
        assert "messages[2] (assistant) tool_calls[0].function.arguments" in secret["location"]
        assert not any(value in json.dumps(span["security_findings"]) for value in VALUES)
        assert span["tags"]["data_protection"].startswith("redacted:")
    finally:
        proxy.process.stop()


def test_pseudonymise_restores_values_in_whole_and_streamed_openai_replies(
    tmp_path: Path, mock_upstream: MockUpstream
) -> None:
    proxy = protected_proxy(tmp_path, mock_upstream.url, "pseudonymise")
    try:
        mock_upstream.clear()
        headers = tenant()
        client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-t", default_headers=headers, max_retries=0)
        prompt = f"Write to {EMAIL} (and cc {EMAIL}) about card {CARD}."
        # The model answers with the placeholders it was given; the client must see its own values.
        reply = "I will write to [EMAIL_1] about [CREDIT_CARD_1] today. Literal [EMAIL_9] stays."
        whole = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": prompt}],
            extra_headers={"x-mock-response": reply},
        )
        expected = f"I will write to {EMAIL} about {CARD} today. Literal [EMAIL_9] stays."
        assert whole.choices[0].message.content == expected
        sent = json.loads(received(mock_upstream)[0])
        assert sent["messages"][0]["content"] == "Write to [EMAIL_1] (and cc [EMAIL_1]) about card [CREDIT_CARD_1]."
        # Streamed in 5-character pieces: every placeholder is split across chunks.
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": prompt}],
            stream=True,
            extra_headers={"x-mock-response": reply, "x-mock-chunk-chars": "5"},
        )
        pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
        assert "".join(pieces) == expected
        # Only the pieces holding part of a placeholder were held back; the rest went out as they came.
        assert len([p for p in pieces if p]) >= len(reply) // 5 - 6
        assert not any(value in b for b in received(mock_upstream) for value in (EMAIL.encode(), CARD.encode()))
        stored = spans(proxy, headers, 2)
        assert all("[EMAIL_1]" in s["prompt"] and EMAIL not in s["prompt"] for s in stored)
    finally:
        proxy.process.stop()


def test_pseudonymise_restores_anthropic_and_responses_streams(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    proxy = protected_proxy(tmp_path, mock_upstream.url, "pseudonymise")
    try:
        mock_upstream.clear()
        reply = "Card [CREDIT_CARD_1] belongs to [EMAIL_1]."
        expected = f"Card {CARD} belongs to {EMAIL}."
        chunked = {"x-mock-response": reply, "x-mock-chunk-chars": "4"}
        claude = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
        message = claude.messages.create(
            model="claude-3-5-haiku-latest",
            max_tokens=100,
            system=f"The customer is {EMAIL}.",
            messages=[{"role": "user", "content": f"Whose card is {CARD}?"}],
            extra_headers={"x-mock-response": reply},
        )
        assert message.content[0].text == expected  # type: ignore[union-attr]
        with claude.messages.stream(
            model="claude-3-5-haiku-latest",
            max_tokens=100,
            system=f"The customer is {EMAIL}.",
            messages=[{"role": "user", "content": f"Whose card is {CARD}?"}],
            extra_headers=chunked,
        ) as stream:
            assert "".join(stream.text_stream) == expected
        gpt = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-t", max_retries=0)
        events = gpt.responses.create(
            model="gpt-4o-mini",
            instructions=f"Customer: {EMAIL}",
            input=f"Whose card is {CARD}?",
            stream=True,
            extra_headers=chunked,
        )
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert text == expected
        bodies = received(mock_upstream)
        assert len(bodies) == 3 and not any(EMAIL.encode() in b or CARD.encode() in b for b in bodies)
    finally:
        proxy.process.stop()


def test_block_refuses_and_names_the_types(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    proxy = protected_proxy(tmp_path, mock_upstream.url, "block", types=["secrets"])
    try:
        mock_upstream.clear()
        headers = tenant()
        client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-t", default_headers=headers, max_retries=0)
        with pytest.raises(openai.PermissionDeniedError) as caught:
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": f"deploy with {AWS_KEY}"}]
            )
        error = caught.value.body
        assert isinstance(error, dict) and error["type"] == "data_protection_blocked"
        assert error["types"] == ["aws_access_key"]
        # PII is not covered by this policy: it passes.
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"mail {EMAIL}"}])
        bodies = received(mock_upstream)
        assert len(bodies) == 1 and EMAIL.encode() in bodies[0]
        stored = {s["status_code"]: s for s in spans(proxy, headers, 2)}
        assert AWS_KEY not in stored[403]["prompt"] and "[REDACTED_AWS_ACCESS_KEY]" in stored[403]["prompt"]
    finally:
        proxy.process.stop()


def test_a_tenant_policy_wins_over_the_config(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    proxy = start_proxy(tmp_path, mock_upstream.url)  # config: off
    try:
        created = httpx.post(f"{proxy.url}/api/v1/tenants", json={"name": "strict"}).json()
        strict, relaxed = {"X-LLMTrace-Tenant-ID": created["id"]}, tenant()
        mock_upstream.clear()
        put = httpx.put(
            f"{proxy.url}/api/v1/tenants/{strict['X-LLMTrace-Tenant-ID']}/settings",
            json={"data_protection": {"mode": "redact", "types": ["pii"]}},
            headers=strict,
        )
        assert put.status_code == 200, put.text
        assert put.json()["data_protection"]["mode"] == "redact"
        bad = httpx.put(
            f"{proxy.url}/api/v1/tenants/{strict['X-LLMTrace-Tenant-ID']}/settings",
            json={"data_protection": {"mode": "shred"}},
            headers=strict,
        )
        assert bad.status_code == 400 and "data_protection.mode" in bad.text
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"mail {EMAIL}"}]}
        for headers in (strict, relaxed):
            assert httpx.post(f"{proxy.url}/v1/chat/completions", json=body, headers=headers).status_code == 200
        first, second = received(mock_upstream)
        assert EMAIL.encode() not in first and EMAIL.encode() in second
        # With protection off, a secret in a prompt is still a finding (never the value).
        key_body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"key {OPENAI_KEY}"}]}
        httpx.post(f"{proxy.url}/v1/chat/completions", json=key_body, headers=relaxed)
        found = [f for s in spans(proxy, relaxed, 2) for f in s["security_findings"]]
        secret = [f for f in found if f["finding_type"] == "secret_in_request"]
        assert len(secret) == 1 and "openai_key x1" in secret[0]["description"] and OPENAI_KEY not in str(found)
        assert secret[0]["location"] == "messages[0] (user) content" and secret[0]["metadata"]["action"] == "detected"
    finally:
        proxy.process.stop()


def test_a_body_it_cannot_inspect_follows_on_error(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    big = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * 5000 + EMAIL}]}
    limits = {"capture_max_body_bytes": 1024}
    strict = start_proxy(tmp_path, mock_upstream.url, {**limits, "data_protection": {"mode": "redact"}})
    lenient = start_proxy(
        tmp_path, mock_upstream.url, {**limits, "data_protection": {"mode": "redact", "on_error": "forward"}}
    )
    try:
        mock_upstream.clear()
        refused = httpx.post(f"{strict.url}/v1/chat/completions", json=big)
        assert refused.status_code == 503 and refused.json()["error"]["type"] == "data_protection_error"
        assert received(mock_upstream) == []
        health = strict.api("/health").json()
        assert health["pipeline"]["data_protection"]["inspection_failures"] == 1
        assert 'llmtrace_pipeline_failures_total{stage="data_protection"} 1.0' in strict.api("/metrics").text
        assert httpx.post(f"{lenient.url}/v1/chat/completions", json=big).status_code == 200
        assert len(received(mock_upstream)) == 1
    finally:
        strict.process.stop()
        lenient.process.stop()


def test_a_long_multilingual_prompt_is_protected_and_otherwise_untouched(
    tmp_path: Path, mock_upstream: MockUpstream
) -> None:
    proxy = protected_proxy(tmp_path, mock_upstream.url, "pseudonymise")
    try:
        mock_upstream.clear()
        paragraphs = [
            "Der Kunde bittet um Rückruf unter der Nummer, die er angegeben hat.",
            "顧客は明日の会議について確認したいと言っています。",
            "El cliente quiere saber el estado de su pedido número 4471-2209.",
            "Клиент просит перезвонить ему завтра утром.",
            "العميل يريد معرفة حالة طلبه في أقرب وقت.",
        ] * 40
        paragraphs.insert(100, f"Kontakt: {EMAIL}, Karte {CARD}.")
        prompt = "\n".join(paragraphs)
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
        assert httpx.post(f"{proxy.url}/v1/chat/completions", json=body).status_code == 200
        sent = json.loads(received(mock_upstream)[0])["messages"][0]["content"]
        assert sent == prompt.replace(EMAIL, "[EMAIL_1]").replace(CARD, "[CREDIT_CARD_1]")
    finally:
        proxy.process.stop()


def test_a_secret_in_an_otlp_ingested_prompt_is_a_finding(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    proxy = start_proxy(tmp_path, mock_upstream.url, {"otel_ingest": {"enabled": True}})
    try:
        headers = tenant()
        now = time.time_ns()
        attributes = [
            {"key": "gen_ai.system", "value": {"stringValue": "openai"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
            {"key": "gen_ai.prompt", "value": {"stringValue": f"why does {GITHUB} not work?"}},
            {"key": "gen_ai.completion", "value": {"stringValue": "Rotate it."}},
        ]
        span = {
            "traceId": uuid.uuid4().hex,
            "spanId": uuid.uuid4().hex[:16],
            "name": "chat",
            "startTimeUnixNano": str(now - 1_000_000),
            "endTimeUnixNano": str(now),
            "attributes": attributes,
        }
        payload = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
        assert httpx.post(f"{proxy.url}/v1/traces", json=payload, headers=headers).status_code == 200
        [stored] = spans(proxy, headers)
        secret = [f for f in stored["security_findings"] if f["finding_type"] == "secret_in_request"]
        assert len(secret) == 1 and secret[0]["metadata"]["types"] == "github_token"
        assert GITHUB not in json.dumps(stored["security_findings"])
    finally:
        proxy.process.stop()
