"""The official anthropic SDK through the proxy: messages, streaming events and tool use, unchanged."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from tests.conftest import MockUpstream, Proxy

pytestmark = pytest.mark.integration

DET = {"x-mock-deterministic": "1"}
TOOLS: list[Any] = [
    {
        "name": "lookup_order",
        "description": "Find an order",
        "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
    }
]


def clients(
    proxy: Proxy, mock: MockUpstream, headers: dict[str, str]
) -> tuple[anthropic.Anthropic, anthropic.Anthropic]:
    return (
        anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", default_headers=headers, max_retries=0),
        anthropic.Anthropic(base_url=mock.url, api_key="sk-ant-test", default_headers=headers, max_retries=0),
    )


def test_messages_identical(proxy: Proxy, mock_upstream: MockUpstream, tenant_headers: dict) -> None:
    through, direct = clients(proxy, mock_upstream, tenant_headers)
    kwargs: dict[str, Any] = {
        "model": "claude-3-5-haiku-latest",
        "max_tokens": 64,
        "system": "You are terse.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
    }
    via = through.messages.with_raw_response.create(**kwargs, extra_headers=DET)
    straight = direct.messages.with_raw_response.create(**kwargs, extra_headers=DET)
    assert via.http_response.content == straight.http_response.content
    assert via.parse().content[0].text == straight.parse().content[0].text  # type: ignore[union-attr]


def test_streaming_events_identical(proxy: Proxy, mock_upstream: MockUpstream, tenant_headers: dict) -> None:
    through, direct = clients(proxy, mock_upstream, tenant_headers)
    kwargs: dict[str, Any] = {
        "model": "claude-3-5-haiku-latest",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Stream it"}],
    }
    with through.messages.stream(**kwargs, extra_headers=DET) as stream:
        via_events = [e.model_dump() for e in stream]
        via_final = stream.get_final_message()
    with direct.messages.stream(**kwargs, extra_headers=DET) as stream:
        straight_events = [e.model_dump() for e in stream]
        straight_final = stream.get_final_message()
    assert via_events == straight_events
    assert via_final.model_dump() == straight_final.model_dump()
    assert via_final.usage.output_tokens == 12


@pytest.mark.parametrize("stream", [False, True])
def test_tool_use(proxy: Proxy, mock_upstream: MockUpstream, tenant_headers: dict, stream: bool) -> None:
    through, direct = clients(proxy, mock_upstream, tenant_headers)
    kwargs: dict[str, Any] = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 64,
        "tools": TOOLS,
        "messages": [{"role": "user", "content": "Where is order 42?"}],
    }
    if stream:
        with through.messages.stream(**kwargs, extra_headers=DET) as s:
            via = s.get_final_message()
        with direct.messages.stream(**kwargs, extra_headers=DET) as s:
            straight = s.get_final_message()
    else:
        via = through.messages.create(**kwargs, extra_headers=DET)
        straight = direct.messages.create(**kwargs, extra_headers=DET)
    assert via.model_dump() == straight.model_dump()
    block = via.content[0]
    assert block.type == "tool_use" and block.name == "lookup_order" and block.input == {"order_id": "mock"}


def test_anthropic_error_passes_through(proxy: Proxy, tenant_headers: dict) -> None:
    client = anthropic.Anthropic(base_url=proxy.url, api_key="k", default_headers=tenant_headers, max_retries=0)
    with pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.create(
            model="claude-3-5-haiku-latest",
            max_tokens=8,
            messages=[{"role": "user", "content": "x"}],
            extra_headers={"x-mock-error-status": "429"},
        )
    assert caught.value.status_code == 429
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "mock upstream error 429"},
    }
