from marketplace.core.db import sql_migration

ID = "2026-12-04T19:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "An administrator's reset of an operator's lost authenticator: set it up again at next sign-in"

# Set by accounts.reset_operator_two_factor, cleared when two_factor.enable succeeds. Roles
# that require two-factor sign-in are sent to its set-up anyway; this makes every role go.
SQL = """
ALTER TABLE operator ADD COLUMN totp_setup_required boolean NOT NULL DEFAULT false;
"""

forwards = sql_migration("marketplace", ID, DESCRIPTION, SQL)
