from marketplace.core.db import sql_migration

ID = "2026-11-22T08:10:00:000004"
VERSION = "1.38.0"
DESCRIPTION = "Listing review: the operator's reason for sending an offer back"

SQL = """
ALTER TABLE offer ADD COLUMN review_note text;
"""

forwards = sql_migration("catalog", ID, DESCRIPTION, SQL)
