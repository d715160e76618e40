from marketplace.core.db import sql_migration

ID = "2026-12-06T03:20:00:000005"
VERSION = "1.38.0"
DESCRIPTION = "Prepaid Guard: refunds made by hand in Stripe on a package's payment, followed by the escrow"

# A refund made in the Stripe dashboard (charge.refunded with a refund the platform did not
# ask for) takes what it can off the package: whole unused sessions (or months) from the end,
# `cancelled` of them, the rest of the amount off the last one left; the package ends when
# all it had left goes. What the escrow cannot cover (the provider had it already) is
# `uncovered_fen`, shown to operators on the console's escrow page. One row per Stripe refund:
# a webhook delivered twice follows it once.
SQL = """
ALTER TABLE prepaid_package ADD COLUMN cancelled integer NOT NULL DEFAULT 0 CHECK (cancelled >= 0);
CREATE TABLE prepaid_outside_refund (
    id bigserial PRIMARY KEY,
    package bigint NOT NULL REFERENCES prepaid_package (id),
    stripe_refund_id varchar(255) NOT NULL UNIQUE,
    amount_fen integer NOT NULL CHECK (amount_fen > 0),
    covered_member_fen integer NOT NULL DEFAULT 0 CHECK (covered_member_fen >= 0),
    covered_subsidy_fen integer NOT NULL DEFAULT 0 CHECK (covered_subsidy_fen >= 0),
    uncovered_fen integer NOT NULL DEFAULT 0 CHECK (uncovered_fen >= 0),
    entry bigint REFERENCES prepaid_entry (id),
    created_at timestamptz NOT NULL,
    CHECK (covered_member_fen + uncovered_fen = amount_fen)
);
CREATE INDEX prepaid_outside_refund_package ON prepaid_outside_refund (package);
CREATE INDEX prepaid_outside_refund_uncovered ON prepaid_outside_refund (created_at) WHERE uncovered_fen > 0;
"""

forwards = sql_migration("prepaid", ID, DESCRIPTION, SQL)
