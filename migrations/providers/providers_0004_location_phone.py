from marketplace.core.db import sql_migration

ID = "2026-12-04T11:05:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "A location's public phone number, for members to call the shop"

# The shop's own number, published to members (a tel: link on the offer and provider pages);
# not the contact person's phone, which stays encrypted and masked.
SQL = """
ALTER TABLE location ADD COLUMN phone varchar(20) NOT NULL DEFAULT '';
"""

forwards = sql_migration("providers", ID, DESCRIPTION, SQL)
