from marketplace.core.db import sql_migration

ID = "2026-12-05T20:00:00:000009"
VERSION = "1.38.0"
DESCRIPTION = "A disputed voucher of a provider delisted with its vouchers cancelled waits for the bank"

SQL = """
-- Its provider was delisted with its vouchers cancelled while the member's bank disputed the
-- payment: the voucher is left alone until the bank decides (a refund now would pay twice);
-- a dispute won by the provider then cancels and refunds it as the delisting would have.
ALTER TABLE voucher ADD COLUMN cancel_after_dispute boolean NOT NULL DEFAULT false;
"""

forwards = sql_migration("vouchers", ID, DESCRIPTION, SQL)
