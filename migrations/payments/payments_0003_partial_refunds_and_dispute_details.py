from marketplace.core.db import sql_migration

ID = "2026-12-04T19:00:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "Payments keep the amount refunded and what a dispute is about and how it ended"

SQL = """
ALTER TABLE payment ADD COLUMN refunded_fen integer NOT NULL DEFAULT 0,
    ADD COLUMN dispute_status varchar(32), ADD COLUMN dispute_reason varchar(64),
    ADD COLUMN dispute_amount_fen integer, ADD COLUMN dispute_closed_at timestamptz;
UPDATE payment SET refunded_fen = amount_fen WHERE status = 'refunded';
UPDATE payment SET dispute_status = 'needs_response' WHERE disputed_at IS NOT NULL;
-- The console's list of disputes still waiting for an outcome.
CREATE INDEX payment_open_dispute ON payment (disputed_at) WHERE dispute_status IS NOT NULL
    AND dispute_closed_at IS NULL;
"""

forwards = sql_migration("payments", ID, DESCRIPTION, SQL)
