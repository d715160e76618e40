from marketplace.core.db import sql_migration

ID = "2026-12-04T13:25:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Providers: the business licence picture sent with the application"

SQL = """
ALTER TABLE provider ADD COLUMN licence_image varchar(120);
"""

forwards = sql_migration("providers", ID, DESCRIPTION, SQL)
