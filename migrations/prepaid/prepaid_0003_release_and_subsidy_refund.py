from marketplace.core.db import sql_migration

ID = "2026-12-06T03:00:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "Prepaid Guard: each package keeps the policy's release schedule and where a refund's subsidy goes"

# escrow.hold copies the provider's policy (evaluation prepaid_rules "release" and
# "refund_subsidy_to_node") into the package, as it does the cooling-off days, so a later
# policy version changes no one's purchase. Packages bought before keep what they were sold
# with: a class package per session, a membership month by month, the subsidy back to the union.
# A refund records the part of the unused subsidy that went to the member with their share
# (policy "refund_subsidy_to_node" false), never more than the member paid.
SQL = """
ALTER TABLE prepaid_package
    ADD COLUMN release varchar(12) NOT NULL DEFAULT 'per_session' CHECK (release IN ('per_session', 'monthly')),
    ADD COLUMN refund_subsidy_to_node boolean NOT NULL DEFAULT true;
UPDATE prepaid_package SET release = 'monthly' WHERE sessions_total IS NULL;
ALTER TABLE prepaid_refund
    ADD COLUMN subsidy_to_member_fen integer NOT NULL DEFAULT 0
        CHECK (subsidy_to_member_fen >= 0 AND subsidy_to_member_fen <= subsidy_fen);
"""

forwards = sql_migration("prepaid", ID, DESCRIPTION, SQL)
