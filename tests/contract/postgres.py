"""A fresh database on the real PostgreSQL at 127.0.0.1 for one contract test, dropped afterwards."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.asynccontextmanager
async def fresh_postgres_store() -> AsyncIterator[Any]:
    """The production metadata adapter, migrated, on a database of its own (inside a trio-asyncio loop)."""
    import asyncpg
    import trio_asyncio

    from adapters.storage.postgres import PostgresMetadataRepository

    name = f"llmtrace_contract_{uuid.uuid4().hex[:12]}"
    async with trio_asyncio.open_loop() as loop:
        admin = await trio_asyncio.aio_as_trio(asyncpg.connect, loop=loop)(PG_ADMIN)
        await trio_asyncio.aio_as_trio(admin.execute, loop=loop)(f"CREATE DATABASE {name}")
        try:
            repository = await PostgresMetadataRepository.open(f"postgresql://postgres@127.0.0.1:5432/{name}")
            assert await repository.migrate() == []  # applied on open; a second run applies nothing
            yield repository
            await repository.close()
        finally:
            await trio_asyncio.aio_as_trio(admin.execute, loop=loop)(f"DROP DATABASE IF EXISTS {name}")
            await trio_asyncio.aio_as_trio(admin.close, loop=loop)()
