from marketplace.core.db import sql_migration

ID = "2026-12-04T19:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "One complaint per voucher, whatever became of it: the database holds the rule under races"

# evaluation.complaints.file refuses a second complaint about a voucher, under a per-member
# advisory lock; this index is what still holds if another writer (a second process, a
# script) forgets the lock. It replaces 0006's partial index, which let a member complain
# again once the first complaint was closed. A voucher belongs to one member, so the
# voucher alone is the key.
SQL = """
CREATE UNIQUE INDEX complaint_one_per_voucher ON complaint (voucher);
DROP INDEX IF EXISTS complaint_one_open;
"""

forwards = sql_migration("evaluation", ID, DESCRIPTION, SQL)
