"""The Piccolo tables and the migrated database agree, column for column: name,
nullability, type and varchar length."""

import pytest
from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)

from marketplace.core.db import engine
from marketplace.piccolo_conf import APP_REGISTRY

pytestmark = pytest.mark.integration

# Most specific first: BigSerial is a Serial, BigInt an Integer, JSONB a JSON.
PG_TYPES = [
    (BigSerial, "bigint"),
    (Serial, "integer"),
    (BigInt, "bigint"),
    (SmallInt, "smallint"),
    (Integer, "integer"),
    (Varchar, "character varying"),
    (Text, "text"),
    (Timestamptz, "timestamp with time zone"),
    (JSONB, "jsonb"),
    (Bytea, "bytea"),
    (Boolean, "boolean"),
    (DoublePrecision, "double precision"),
    (Array, "ARRAY"),
    (Date, "date"),
]


def expected_type(column) -> str:
    if isinstance(column, ForeignKey):
        return expected_type(column._foreign_key_meta.resolved_references._meta.primary_key)
    return next(pg for kind, pg in PG_TYPES if isinstance(column, kind))


async def test_every_table_matches_the_database():
    rows = await engine().run_ddl(
        "SELECT table_name, column_name, is_nullable, data_type, character_maximum_length "
        "FROM information_schema.columns WHERE table_schema = 'public'"
    )
    database: dict[str, dict[str, tuple]] = {}
    for row in rows:
        database.setdefault(row["table_name"], {})[row["column_name"]] = (
            row["is_nullable"] == "YES",
            row["data_type"],
            row["character_maximum_length"],
        )
    tables = [table for app in APP_REGISTRY.app_configs.values() for table in app.table_classes]
    assert len(tables) >= 15
    for table in tables:
        name = table._meta.tablename
        assert name in database, f"{name} has no migration"
        declared = {
            column._meta.db_column_name: (
                column._meta.null,
                expected_type(column),
                column.length if isinstance(column, Varchar) else None,
            )
            for column in table._meta.columns
        }
        assert declared == database[name], f"{name}: tables.py and the migrations disagree"
