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
    import trio
    import trio_asyncio

    from adapters.storage.clickhouse import ClickHouseTraceRepository
    from adapters.storage.postgres import PostgresMetadataRepository

    storage = config.storage
    postgres_url, clickhouse_url = storage.postgres_url or "", storage.clickhouse_url or ""

    async def run() -> list[str]:
        async with trio_asyncio.open_loop():
            store = await PostgresMetadataRepository.open(postgres_url, migrate=False)
            try:
                applied = await store.migrate()
            finally:
                await store.close()
        clickhouse = ClickHouseTraceRepository(clickhouse_url, storage.clickhouse_database, create=True)
        await clickhouse.close()
        lines = [f"postgres: applied migration {v}" for v in applied] or ["postgres: schema is up to date"]
        return [*lines, f"clickhouse: database {storage.clickhouse_database} and tables are in place"]

    return trio.run(run)
