from marketplace.core.db import sql_migration

ID = "2026-12-05T20:00:00:000008"
VERSION = "1.38.0"
DESCRIPTION = "Statements with nothing to pay are closed by two operators; a negative balance is carried on"

SQL = """
-- closed: nothing was owed (corrections took the total to zero or below); two operators
-- closed it (the close is the approval, so approved_at is set) and nothing was paid.
ALTER TABLE settlement_statement DROP CONSTRAINT settlement_statement_status_check;
ALTER TABLE settlement_statement ADD CONSTRAINT settlement_statement_status_check
    CHECK (status IN ('draft', 'approved', 'paid', 'closed'));
-- What a closed statement still owed back is carried to the next statement as one
-- correction of no voucher (reason balance_carried); every other correction names its voucher.
ALTER TABLE settlement_adjustment ALTER COLUMN voucher_id DROP NOT NULL;
ALTER TABLE settlement_adjustment ALTER COLUMN voucher_code DROP NOT NULL;
ALTER TABLE settlement_adjustment ADD CONSTRAINT settlement_adjustment_voucher
    CHECK ((reason = 'balance_carried') = (voucher_id IS NULL) AND (voucher_id IS NULL) = (voucher_code IS NULL));
"""

forwards = sql_migration("providers", ID, DESCRIPTION, SQL)
