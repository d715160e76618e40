from marketplace.core.db import sql_migration

ID = "2026-12-06T03:10:00:000011"
VERSION = "1.38.0"
DESCRIPTION = "A provider may be closed for good (关闭/停业), an operator's decision"

# providers.services DECISIONS "close"; marketplace/prepaid refunds the unused balances of a
# closed provider's packages when it hears provider.closed.
SQL = """
ALTER TABLE provider DROP CONSTRAINT provider_status_check;
ALTER TABLE provider ADD CONSTRAINT provider_status_check
    CHECK (status IN ('applied', 'changes_requested', 'active', 'rejected', 'suspended', 'delisted', 'closed'));
"""

forwards = sql_migration("providers", ID, DESCRIPTION, SQL)
