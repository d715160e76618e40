from marketplace.core.db import sql_migration

ID = "2026-12-04T19:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Vouchers record the member share refunded and a dispute that holds them"

SQL = """
-- What of the member's share went back (a partial or full refund), so statements and
-- reports count what the member really paid, to the fen.
ALTER TABLE voucher ADD COLUMN refunded_fen integer NOT NULL DEFAULT 0;
-- The member's bank disputes the payment: the voucher cannot be redeemed until it is settled.
ALTER TABLE voucher ADD COLUMN disputed_at timestamptz;
"""

forwards = sql_migration("vouchers", ID, DESCRIPTION, SQL)
