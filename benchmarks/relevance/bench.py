"""`benefits bench relevance`: the relevance set through our search and through a
PostgreSQL-only peer, side by side, on a database and an index of their own.

The database is `<configured name>_relevance` beside the configured one, created,
migrated and filled with the catalogue on every run (so the figures never depend on
other data); the index is `relevance_offers`. Both are left behind for inspection.
"""

import os
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from benchmarks import relevance

PREFIX = "relevance_"


def use_own_database() -> str:
    """Point this process at the relevance database and index (before anything reads the settings)."""
    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/") or "benefits"
    name = name if name.endswith("_relevance") else f"{name}_relevance"
    os.environ["DATABASE_URL"] = urlunsplit(url._replace(path="/" + name))
    os.environ["MEILI_INDEX_PREFIX"] = PREFIX
    return name


async def _recreate(name: str) -> None:
    import asyncpg
    from piccolo.apps.migrations.commands.forwards import run_forwards

    url = urlsplit(os.environ["DATABASE_URL"])
    admin = await asyncpg.connect(urlunsplit(url._replace(path="/postgres")))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(result.message)


@dataclass
class Report:
    ours: relevance.Figures
    peer: relevance.Figures
    documents: int


async def search_ids(q: str) -> list[int]:
    """Our search as an anonymous visitor: the offer ids of the first page, in order."""
    from catalog.search import service
    from catalog.search.schemas import SearchQuery

    result = await service.search(None, SearchQuery(q=q, page_size=10), record_miss=False)
    return [hit.offer_id for hit in result.hits]


async def prepare_and_judge(with_peer: bool = True) -> Report:
    """Load the catalogue into the current database, index it, and judge both searches."""
    from catalog.search import index, peer, terms

    catalogue = relevance.read_catalogue()
    queries = relevance.read_queries()
    ids = await relevance.load(catalogue)
    documents = await index.reindex()
    # The corrections' vocabulary is cached per process: built from this catalogue, not
    # from whatever the process searched before (another test file's offers).
    terms.forget_vocabulary()
    ours = await relevance.run(queries, ids, catalogue, search_ids)
    other = await relevance.run(queries, ids, catalogue, peer.search_ids) if with_peer else relevance.Figures([])
    return Report(ours, other, documents)


async def run() -> Report:
    from marketplace.core import db

    name = use_own_database()
    await _recreate(name)
    await db.open_pool()
    try:
        return await prepare_and_judge()
    finally:
        from catalog.search import index

        await index.close_clients()
        await db.close_pool()
