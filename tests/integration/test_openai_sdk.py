"""The official openai SDK against the proxy in front of the mock upstream: it must notice nothing."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import MockUpstream, Proxy

pytestmark = pytest.mark.integration

DET = {"x-mock-deterministic": "1"}
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def clients(proxy: Proxy, mock: MockUpstream, headers: dict[str, str]) -> tuple[openai.OpenAI, openai.OpenAI]:
    through = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-test", default_headers=headers, max_retries=0)
    direct = openai.OpenAI(base_url=f"{mock.url}/v1", api_key="sk-test", default_headers=headers, max_retries=0)
    return through, direct


def test_chat_completion_is_byte_identical(proxy: Proxy, mock_upstream: MockUpstream, tenant_headers: dict) -> None:
    through, direct = clients(proxy, mock_upstream, tenant_headers)
    kwargs: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there"}]}
    via = through.chat.completions.with_raw_response.create(**kwargs, extra_headers=DET)
    straight = direct.chat.completions.with_raw_response.create(**kwargs, extra_headers=DET)
    assert via.http_response.status_code == straight.http_response.status_code == 200
    assert via.http_response.content == straight.http_response.content
    assert via.headers["content-type"] == straight.headers["content-type"]
    assert via.parse().choices[0].message.content == straight.parse().choices[0].message.content


def test_streaming_chat_is_identical(proxy: Proxy, mock_upstream: MockUpstream, tenant_headers: dict) -> None:
    through, direct = clients(proxy, mock_upstream, tenant_headers)
    kwargs: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Stream please"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    via = [c.model_dump() for c in through.chat.completions.create(**kwargs, extra_headers=DET)]
    straight = [c.model_dump() for c in direct.chat.completions.create(**kwargs, extra_headers=DET)]
    assert via == straight
    assert len(via) > 5
    assert via[-1]["usage"]["completion_tokens"] == 12


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls_pass_through(proxy: Proxy, mock_upstream: MockUpstream, tenant_headers: dict, stream: bool) -> None:
    through, direct = clients(proxy, mock_upstream, tenant_headers)
    kwargs: dict[str, Any] = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": TOOLS,
    }
    if stream:
        via = [c.model_dump() for c in through.chat.completions.create(**kwargs, stream=True, extra_headers=DET)]
        straight = [c.model_dump() for c in direct.chat.completions.create(**kwargs, stream=True, extra_headers=DET)]
        assert via == straight
        args = "".join(
            (c["choices"][0]["delta"].get("tool_calls") or [{}])[0].get("function", {}).get("arguments") or ""
            for c in via
            if c["choices"]
        )
        assert json.loads(args) == {"city": "mock"}
    else:
        via_r = through.chat.completions.create(**kwargs, extra_headers=DET)
        straight_r = direct.chat.completions.create(**kwargs, extra_headers=DET)
        assert via_r.model_dump() == straight_r.model_dump()
        assert via_r.choices[0].message.tool_calls[0].function.name == "get_weather"  # type: ignore[index,union-attr]


def test_embeddings_completions_and_responses(proxy: Proxy, mock_upstream: MockUpstream, tenant_headers: dict) -> None:
    through, direct = clients(proxy, mock_upstream, tenant_headers)
    e1 = through.embeddings.with_raw_response.create(
        model="text-embedding-3-small", input=["a", "b"], extra_headers=DET
    )
    e2 = direct.embeddings.with_raw_response.create(model="text-embedding-3-small", input=["a", "b"], extra_headers=DET)
    assert e1.http_response.content == e2.http_response.content
    assert len(e1.parse().data) == 2
    c1 = through.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", extra_headers=DET)
    c2 = direct.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", extra_headers=DET)
    assert c1.model_dump() == c2.model_dump()
    r1 = through.responses.create(model="gpt-4o-mini", input="Tell me a joke", extra_headers=DET)
    r2 = direct.responses.create(model="gpt-4o-mini", input="Tell me a joke", extra_headers=DET)
    assert r1.output_text == r2.output_text and r1.output_text
    events1 = [e.type for e in through.responses.create(model="gpt-4o-mini", input="x", stream=True, extra_headers=DET)]
    events2 = [e.type for e in direct.responses.create(model="gpt-4o-mini", input="x", stream=True, extra_headers=DET)]
    assert events1 == events2 and events1[-1] == "response.completed"


@pytest.mark.parametrize("status", [400, 401, 429, 500, 503])
def test_upstream_error_statuses_pass_through(proxy: Proxy, tenant_headers: dict, status: int) -> None:
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-test", default_headers=tenant_headers, max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "x"}],
            extra_headers={"x-mock-error-status": str(status)},
        )
    assert caught.value.status_code == status
    assert caught.value.response.headers["x-mock-error"] == "1"
    assert "mock upstream error" in caught.value.message


def test_request_is_forwarded_verbatim(proxy: Proxy, mock_upstream: MockUpstream) -> None:
    mock_upstream.clear()
    body = b'{"model":  "gpt-4o-mini", "messages": [{"role": "user", "content": "spacing   kept"}]}'
    response = httpx.post(
        f"{proxy.url}/v1/chat/completions?api-version=2024-01-01&x=1",
        content=body,
        headers={
            "content-type": "application/json",
            "authorization": "Bearer sk-upstream-key",
            "x-custom-header": "kept",
            "proxy-authorization": "Basic should-not-pass",
            "te": "trailers",
        },
    )
    assert response.status_code == 200
    seen = mock_upstream.requests()[-1]
    assert seen["path"] == "/v1/chat/completions"
    assert seen["query"] == "api-version=2024-01-01&x=1"
    assert base64.b64decode(seen["body_b64"]) == body  # type: ignore[arg-type]
    headers = {k: v for k, v in seen["headers"]}  # type: ignore[misc]
    assert headers["authorization"] == "Bearer sk-upstream-key"
    assert headers["x-custom-header"] == "kept"
    assert "proxy-authorization" not in headers
    assert "te" not in headers
    assert headers["host"] == f"127.0.0.1:{mock_upstream.port}"


def test_other_paths_and_methods_are_proxied(proxy: Proxy) -> None:
    models = httpx.get(f"{proxy.url}/v1/models")
    assert models.status_code == 200 and models.json()["data"][0]["id"] == "mock-gpt"
    missing = httpx.delete(f"{proxy.url}/v1/files/abc")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found"


def test_unreachable_upstream_is_502(proxy_factory: Any) -> None:
    from tests.conftest import free_port

    proxy = proxy_factory(f"http://127.0.0.1:{free_port()}")
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-test", max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 502
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "proxy_error"
    # The message names the upstream and the cause, so an operator can act on it.
    assert body["message"].startswith("upstream 127.0.0.1 unreachable: ConnectError")


def test_slow_upstream_is_504(proxy_factory: Any, mock_upstream: MockUpstream) -> None:
    proxy = proxy_factory(mock_upstream.url, {"timeout_ms": 300})
    response = httpx.post(
        f"{proxy.url}/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
        headers={"x-mock-latency-ms": "2000"},
        timeout=10,
    )
    assert response.status_code == 504
    error = response.json()["error"]
    assert error["type"] == "proxy_error"
    assert error["message"].startswith("upstream 127.0.0.1 timed out")


def test_oversized_body_is_413(proxy_factory: Any, mock_upstream: MockUpstream) -> None:
    proxy = proxy_factory(mock_upstream.url, {"max_request_size_bytes": 2000})
    mock_upstream.clear()
    response = httpx.post(
        f"{proxy.url}/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * 5000}]},
    )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "proxy_error"
    assert "2000" in response.json()["error"]["message"]
    assert mock_upstream.requests() == []  # never forwarded
    ok = httpx.post(
        f"{proxy.url}/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "small"}]},
    )
    assert ok.status_code == 200


def test_disconnecting_stream_client_stops_upstream(proxy: Proxy, mock_upstream: MockUpstream) -> None:
    mock_upstream.clear()
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST",
            f"{proxy.url}/v1/chat/completions",
            json={"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "long"}]},
            headers={"x-mock-tokens": "400", "x-mock-inter-token-ms": "20"},
        ) as response,
    ):
        lines = response.iter_lines()
        received = [next(lines) for _ in range(3)]
        assert received[0].startswith("data: ")
    # The client went away after about 3 of 400 tokens (8 s of stream): the upstream stream must stop early.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        stats = mock_upstream.stats()
        if stats["streams_disconnected"] >= 1:
            break
        time.sleep(0.05)
    assert stats["streams_disconnected"] == 1, stats
    assert stats["streams_completed"] == 0


def test_long_stream_is_not_cut(proxy_factory: Any, mock_upstream: MockUpstream) -> None:
    """timeout_ms bounds the wait between two reads, not the whole stream: a 2.4 s stream passes a 500 ms timeout."""
    proxy = proxy_factory(mock_upstream.url, {"timeout_ms": 500})
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-test", max_retries=0)
    started = time.monotonic()
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "x"}],
        stream=True,
        extra_headers={"x-mock-tokens": "40", "x-mock-inter-token-ms": "60"},
    )
    chunks = list(stream)
    assert time.monotonic() - started > 2.0
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert "".join(c.choices[0].delta.content or "" for c in chunks).endswith("token39")
