"""``just demo``: an offline tour. Mock upstream + proxy, a few official-SDK calls, then the captured traces."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import anthropic
import httpx
import openai

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import start_mock, start_proxy


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="llmtrace-demo-"))
    mock = start_mock(tmp, "--ttft-ms", "120", "--inter-token-ms", "15")
    proxy = start_proxy(tmp, mock.url)
    headers = {"X-LLMTrace-Tenant-ID": "11111111-2222-3333-4444-555555555555", "X-LLMTrace-Agent-ID": "demo-agent"}
    try:
        print(f"mock upstream on {mock.url}, proxy on {proxy.url} (SQLite at {tmp})\n")
        oai = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-demo", default_headers=headers)
        reply = oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello!"}])
        print("openai chat:      ", reply.choices[0].message.content)
        streamed = "".join(
            c.choices[0].delta.content or ""
            for c in oai.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Stream to me"}], stream=True
            )
            if c.choices
        )
        print("openai stream:    ", streamed)
        claude = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-demo", default_headers=headers)
        message = claude.messages.create(
            model="claude-3-5-haiku", max_tokens=50, messages=[{"role": "user", "content": "Bonjour"}]
        )
        print("anthropic message:", message.content[0].text)  # type: ignore[union-attr]
        time.sleep(0.5)
        traces = httpx.get(f"{proxy.url}/api/v1/traces", headers=headers).json()
        print(f"\nGET /api/v1/traces -> {traces['total']} traces")
        for trace in traces["data"]:
            span = trace["spans"][0]
            summary = {
                k: span[k]
                for k in (
                    "operation_name",
                    "provider",
                    "model_name",
                    "prompt_tokens",
                    "completion_tokens",
                    "time_to_first_token_ms",
                    "duration_ms",
                    "estimated_cost_usd",
                    "agent_id",
                )
            }
            print(" ", json.dumps(summary))
        print("\nGET /health ->", httpx.get(f"{proxy.url}/health").json()["status"])
    finally:
        proxy.process.stop()
        mock.process.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
