from marketplace.core.db import sql_migration

ID = "2026-12-04T10:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "A complaint's optional photo (checked and resized like offer pictures)"

SQL = """
ALTER TABLE complaint ADD COLUMN photo varchar(100);
"""

forwards = sql_migration("evaluation", ID, DESCRIPTION, SQL)
