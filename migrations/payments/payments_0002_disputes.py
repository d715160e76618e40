from marketplace.core.db import sql_migration

ID = "2026-12-04T17:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Disputes opened in Stripe flag their payment"

SQL = """
ALTER TABLE payment ADD COLUMN disputed_at timestamptz, ADD COLUMN dispute_id varchar(255);
"""

forwards = sql_migration("payments", ID, DESCRIPTION, SQL)
