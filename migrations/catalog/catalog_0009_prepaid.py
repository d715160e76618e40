from marketplace.core.db import sql_migration

ID = "2026-12-06T01:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Prepaid packages (the fifth offer kind): sessions, or a period membership, and months of validity"

SQL = """
ALTER TABLE offer DROP CONSTRAINT offer_kind_check;
ALTER TABLE offer ADD CONSTRAINT offer_kind_check CHECK (kind IN ('voucher', 'paid', 'points', 'slot', 'prepaid'));
ALTER TABLE offer ADD COLUMN package_sessions integer CHECK (package_sessions > 0);
ALTER TABLE offer ADD COLUMN package_months integer CHECK (package_months > 0);
ALTER TABLE offer ADD CONSTRAINT offer_prepaid_months CHECK ((kind = 'prepaid') = (package_months IS NOT NULL));
"""

forwards = sql_migration("catalog", ID, DESCRIPTION, SQL)
