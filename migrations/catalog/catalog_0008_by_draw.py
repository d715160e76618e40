from marketplace.core.db import sql_migration

ID = "2026-12-05T22:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Offers given by draw: the normal claim refuses them (marketplace/draws hands out their places)"

SQL = """
ALTER TABLE offer ADD COLUMN by_draw boolean NOT NULL DEFAULT false;
"""

forwards = sql_migration("catalog", ID, DESCRIPTION, SQL)
