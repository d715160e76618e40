from marketplace.core.db import sql_migration

ID = "2026-11-30T12:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Vouchers by claim and redemption time, which the report aggregates read incrementally"

# IF NOT EXISTS: databases migrated before this one got the same indexes from the reports job.
SQL = """
CREATE INDEX IF NOT EXISTS voucher_claimed_at ON voucher (claimed_at);
CREATE INDEX IF NOT EXISTS voucher_redeemed_at ON voucher (redeemed_at) WHERE redeemed_at IS NOT NULL;
"""

forwards = sql_migration("vouchers", ID, DESCRIPTION, SQL)
