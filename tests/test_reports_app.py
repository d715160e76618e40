"""Reports are a Piccolo app of their own (marketplace/reports/piccolo_app.py). Their first
migration makes the tables on a fresh database and changes nothing on one the marketplace
app had already given them (marketplace_0007_reports, before the move)."""

import asyncpg
import pytest

from tests.test_reference_data import _benefits, empty_database  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.integration]

REPORT_TABLES = {
    "report_usage_daily",
    "report_provider_daily",
    "report_search_miss_daily",
    "report_coverage",
    "report_run",
}


async def _tables(connection) -> set[str]:
    rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows}


async def test_the_reports_app_makes_its_tables_fresh_and_keeps_those_a_database_had(empty_database):
    result = _benefits(empty_database, "migrate")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    connection = await asyncpg.connect(empty_database)
    try:
        assert await _tables(connection) >= REPORT_TABLES
        assert await connection.fetchval("SELECT count(*) FROM migration WHERE app_name = 'reports'") == 1
        # A database migrated before the move: the tables and their rows are there, the
        # reports app has never run.
        await connection.execute("DELETE FROM migration WHERE app_name = 'reports'")
        await connection.execute(
            "INSERT INTO report_run (name, last_run_at, from_day) VALUES ('usage', now(), '2026-11-01')"
        )
    finally:
        await connection.close()

    again = _benefits(empty_database, "migrate")
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    connection = await asyncpg.connect(empty_database)
    try:
        assert await connection.fetchval("SELECT count(*) FROM migration WHERE app_name = 'reports'") == 1
        assert await connection.fetchval("SELECT from_day::text FROM report_run WHERE name = 'usage'") == "2026-11-01"
    finally:
        await connection.close()
