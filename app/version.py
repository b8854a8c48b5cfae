"""The installed version, read without importing anything heavy (``llmtrace-proxy --version`` stays instant)."""

from __future__ import annotations

from importlib import metadata


def version() -> str:
    try:
        return metadata.version("llmtrace")
    except metadata.PackageNotFoundError:
        return "0.0.0+local"
