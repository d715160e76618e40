from marketplace.core.db import sql_migration

ID = "2026-11-30T11:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Operator roles on top of the node scope: administrator, reviewer, analyst"

SQL = """
ALTER TABLE operator ADD COLUMN role varchar(16) NOT NULL DEFAULT 'administrator'
    CHECK (role IN ('administrator', 'reviewer', 'analyst'));
"""

forwards = sql_migration("marketplace", ID, DESCRIPTION, SQL)
