"""The Piccolo tables and the migrated database agree, column for column."""

import pytest

from marketplace.db import engine
from marketplace.piccolo_conf import APP_REGISTRY

pytestmark = pytest.mark.integration


async def test_every_table_matches_the_database():
    rows = await engine().run_ddl(
        "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'")
    database: dict[str, dict[str, bool]] = {}
    for row in rows:
        database.setdefault(row["table_name"], {})[row["column_name"]] = row["is_nullable"] == "YES"
    tables = [table for app in APP_REGISTRY.app_configs.values() for table in app.table_classes]
    assert len(tables) >= 15
    for table in tables:
        name = table._meta.tablename
        assert name in database, f"{name} has no migration"
        declared = {column._meta.db_column_name: column._meta.null for column in table._meta.columns}
        assert declared == database[name], f"{name}: tables.py and the migration disagree"
