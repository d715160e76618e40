from marketplace.core.db import sql_migration

ID = "2026-11-30T11:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Report aggregates kept by a scheduled job, rolled up by node path prefix"

# The report tables this step made now belong to the reports app, which makes them
# (migrations/reports/reports_0001_initial.py, IF NOT EXISTS: a database migrated before
# the move keeps the ones made here). What stays is the index on vouchers.

SQL = """
-- The incremental run reads the last days of claims and redemptions by time. The voucher
-- table belongs to a later app: on a fresh database it does not exist yet here, and
-- migrations/vouchers/vouchers_0003_time_indexes.py creates them.
DO $$
BEGIN
    IF to_regclass('voucher') IS NOT NULL THEN
        CREATE INDEX IF NOT EXISTS voucher_claimed_at ON voucher (claimed_at);
        CREATE INDEX IF NOT EXISTS voucher_redeemed_at ON voucher (redeemed_at) WHERE redeemed_at IS NOT NULL;
    END IF;
END $$;
"""

forwards = sql_migration("marketplace", ID, DESCRIPTION, SQL)
