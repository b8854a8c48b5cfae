"""``llmtrace-proxy migrate``: apply the schema migrations of the configured storage profile."""

from __future__ import annotations

from adapters.storage import sqlite
from app.settings import ProxyConfig


def run_migrations(config: ProxyConfig) -> list[str]:
    profile = config.storage.profile
    if profile == "memory":
        return ["storage profile 'memory' keeps nothing: no migrations to apply"]
    if profile == "lite":
        applied = sqlite.migrate(config.storage.database_path)
        if not applied:
            return [f"{config.storage.database_path}: schema is up to date"]
        return [f"{config.storage.database_path}: applied migration {v}" for v in applied]
    raise ValueError(f"storage profile {profile!r} is not available in this build")
