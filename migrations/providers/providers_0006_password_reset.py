from marketplace.core.db import sql_migration

ID = "2026-12-04T16:00:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "Provider users: a password reset by the owner forces a change at the next sign-in"

SQL = """
ALTER TABLE provider_user ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
"""

forwards = sql_migration("providers", ID, DESCRIPTION, SQL)
