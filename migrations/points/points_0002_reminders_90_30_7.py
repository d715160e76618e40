from marketplace.core.db import sql_migration

ID = "2026-12-04T10:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Points expiry reminders 90, 30 and 7 days before: the last reminder each lot had"

SQL = """
-- The shortest reminder period (days before expiry) a lot was reminded in; a lot is reminded
-- again only when it enters a shorter one. Lots reminded before this counted as the 30-day one.
ALTER TABLE points_lot ADD COLUMN reminded_days smallint;
UPDATE points_lot SET reminded_days = 30 WHERE reminded_at IS NOT NULL;
"""

forwards = sql_migration("points", ID, DESCRIPTION, SQL)
