from marketplace.core.db import sql_migration

ID = "2026-12-06T03:30:00:000006"
VERSION = "1.38.0"
DESCRIPTION = "Prepaid Guard: an operator marks what the escrow could not cover of a Stripe refund as resolved"

# What a refund made by hand in Stripe took beyond the escrow (`uncovered_fen`) is recovered
# from the provider or booked as the union's loss outside the platform; the operator who did
# it marks the row resolved with a note (audited), and the console's alert stops counting it.
# The three columns are set together, once.
SQL = """
ALTER TABLE prepaid_outside_refund
    ADD COLUMN resolved_at timestamptz,
    ADD COLUMN resolved_by integer REFERENCES operator (id),
    ADD COLUMN resolution_note text,
    ADD CONSTRAINT prepaid_outside_refund_resolved CHECK (
        (resolved_at IS NULL AND resolved_by IS NULL AND resolution_note IS NULL)
        OR (resolved_at IS NOT NULL AND resolved_by IS NOT NULL AND resolution_note IS NOT NULL
            AND uncovered_fen > 0)
    );
"""

forwards = sql_migration("prepaid", ID, DESCRIPTION, SQL)
