from marketplace.core.db import sql_migration

ID = "2026-12-04T15:20:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "A large points grant waits for a second operator's approval before it is queued"

SQL = """
ALTER TABLE points_grant DROP CONSTRAINT IF EXISTS points_grant_status_check;
ALTER TABLE points_grant ADD CONSTRAINT points_grant_status_check
    CHECK (status IN ('pending', 'rejected', 'queued', 'running', 'done'));
"""

forwards = sql_migration("points", ID, DESCRIPTION, SQL)
