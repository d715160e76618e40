from marketplace.core.db import sql_migration

ID = "2026-11-30T09:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "What each voucher cost (subsidy, member payment, points), its slot, and pending paid claims"

SQL = """
ALTER TABLE voucher DROP CONSTRAINT voucher_status_check;
ALTER TABLE voucher ADD CONSTRAINT voucher_status_check
    CHECK (status IN ('pending', 'issued', 'redeemed', 'cancelled', 'expired', 'refunded'));
ALTER TABLE voucher
    ADD COLUMN subsidy_fen integer NOT NULL DEFAULT 0 CHECK (subsidy_fen >= 0),
    ADD COLUMN paid_fen integer NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),
    ADD COLUMN points_spent integer NOT NULL DEFAULT 0 CHECK (points_spent >= 0),
    ADD COLUMN slot bigint REFERENCES offer_slot (id);
-- Pending paid claims hold stock until paid; the release job finds the stale ones.
CREATE INDEX voucher_pending ON voucher (claimed_at) WHERE status = 'pending';
"""

forwards = sql_migration("vouchers", ID, DESCRIPTION, SQL)
