from marketplace.core.db import sql_migration

ID = "2026-12-06T01:30:00:000003"
VERSION = "1.38.0"
DESCRIPTION = (
    "Settlement lines for escrow released from prepaid packages: one line per release entry, each settled once"
)

SQL = """
ALTER TABLE settlement_line ADD COLUMN escrow_entry bigint;
ALTER TABLE settlement_line DROP CONSTRAINT settlement_line_voucher_id_key;
CREATE UNIQUE INDEX settlement_line_voucher ON settlement_line (voucher_id) WHERE escrow_entry IS NULL;
CREATE UNIQUE INDEX settlement_line_escrow_entry ON settlement_line (escrow_entry) WHERE escrow_entry IS NOT NULL;
"""

forwards = sql_migration("providers", ID, DESCRIPTION, SQL)
