"""LLM providers and how an exchange is attributed to one (reference section 1)."""

from __future__ import annotations

import enum


class Provider(enum.Enum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    VLLM = "vllm"
    SGLANG = "sglang"
    TGI = "tgi"
    OLLAMA = "ollama"
    AZURE_OPENAI = "azure_openai"
    BEDROCK = "bedrock"
    CUSTOM = "custom"

    @property
    def self_hosted(self) -> bool:
        return self in (Provider.VLLM, Provider.SGLANG, Provider.TGI, Provider.OLLAMA)


_NAMES: dict[str, Provider] = {
    "openai": Provider.OPENAI,
    "anthropic": Provider.ANTHROPIC,
    "vllm": Provider.VLLM,
    "sglang": Provider.SGLANG,
    "tgi": Provider.TGI,
    "ollama": Provider.OLLAMA,
    "azure": Provider.AZURE_OPENAI,
    "azure_openai": Provider.AZURE_OPENAI,
    "azureopenai": Provider.AZURE_OPENAI,
    "azure-openai": Provider.AZURE_OPENAI,
    "bedrock": Provider.BEDROCK,
    "aws_bedrock": Provider.BEDROCK,
    "custom": Provider.CUSTOM,
}


def provider_from_name(name: str) -> Provider:
    """Map a provider name (header value, query parameter, OTLP attribute) to a provider."""
    return _NAMES.get(name.strip().lower(), Provider.CUSTOM)


def detect_provider(header: str | None, upstream_url: str, path: str) -> Provider:
    """Header ``X-LLMTrace-Provider`` first, then the upstream host, then the request path, else OpenAI."""
    if header and header.strip():
        return provider_from_name(header)
    url = upstream_url.lower()
    if "api.openai.com" in url:
        return Provider.OPENAI
    if "api.anthropic.com" in url:
        return Provider.ANTHROPIC
    if "openai.azure.com" in url or "cognitiveservices.azure.com" in url:
        return Provider.AZURE_OPENAI
    if "bedrock-runtime" in url and "amazonaws.com" in url:
        return Provider.BEDROCK
    if ":11434" in url:
        return Provider.OLLAMA
    if path.startswith("/v1/messages"):
        return Provider.ANTHROPIC
    if path.startswith(("/api/generate", "/api/chat", "/api/tags", "/api/embeddings")):
        return Provider.OLLAMA
    return Provider.OPENAI
