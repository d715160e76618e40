from marketplace.core.db import sql_migration

ID = "2026-12-06T02:10:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "Prepaid Guard: each package keeps the cooling-off days of the policy in force when it was bought"

# escrow.hold copies the provider's policy (evaluation prepaid_rules "cooling_off_days") into
# the package, so a later policy version changes no one's purchase. Packages bought before
# keep the 7 days they were sold with.
SQL = """
ALTER TABLE prepaid_package ADD COLUMN cooling_off_days integer NOT NULL DEFAULT 7 CHECK (cooling_off_days >= 0);
"""

forwards = sql_migration("prepaid", ID, DESCRIPTION, SQL)
