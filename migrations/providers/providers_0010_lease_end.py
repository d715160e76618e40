from marketplace.core.db import sql_migration

ID = "2026-12-06T02:00:00:000010"
VERSION = "1.38.0"
DESCRIPTION = "The date a provider's lease of its premises ends, when it gives one (Prepaid Guard's lease signal)"

# Optional, set by the provider's owner (providers.services.set_lease_end); a lease ending
# within 60 days stops the provider's prepaid package sales (evaluation/enforcement/freeze.py).
SQL = """
ALTER TABLE provider ADD COLUMN lease_ends_on date;
"""

forwards = sql_migration("providers", ID, DESCRIPTION, SQL)
