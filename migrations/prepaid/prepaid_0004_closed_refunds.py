from marketplace.core.db import sql_migration

ID = "2026-12-06T03:10:00:000004"
VERSION = "1.38.0"
DESCRIPTION = "Prepaid Guard: a closed provider's packages are refunded (reason 'closed')"

SQL = """
ALTER TABLE prepaid_refund DROP CONSTRAINT prepaid_refund_reason_check;
ALTER TABLE prepaid_refund ADD CONSTRAINT prepaid_refund_reason_check
    CHECK (reason IN ('cooling_off', 'delisted', 'closed', 'unused', 'expired'));
"""

forwards = sql_migration("prepaid", ID, DESCRIPTION, SQL)
