from marketplace.core.db import sql_migration

ID = "2026-11-30T12:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "One open complaint per member and voucher, so complaint counts cannot be stuffed"

SQL = """
CREATE UNIQUE INDEX complaint_one_open ON complaint (member, voucher) WHERE status <> 'closed';
"""

forwards = sql_migration("evaluation", ID, DESCRIPTION, SQL)
