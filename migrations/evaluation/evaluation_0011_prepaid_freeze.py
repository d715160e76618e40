from marketplace.core.db import sql_migration

ID = "2026-12-05T21:00:00:000011"
VERSION = "1.38.0"
DESCRIPTION = "Prepaid Guard: the freezes that stop a provider's prepaid package sales, and why"

# evaluation.enforcement.freeze: one row per reason a provider's prepaid sales stop (probation,
# an open case, an operator's flag, a risk signal), open while lifted_at is null; at most one
# open row per provider and reason. The provider is frozen while any row is open.
SQL = """
CREATE TABLE prepaid_freeze (
    id serial PRIMARY KEY,
    provider integer NOT NULL REFERENCES provider (id),
    reason varchar(24) NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}',
    note text,
    since timestamp with time zone NOT NULL,
    started_by integer REFERENCES operator (id),
    lifted_at timestamp with time zone,
    lifted_by integer REFERENCES operator (id),
    lift_note text
);
CREATE UNIQUE INDEX prepaid_freeze_open ON prepaid_freeze (provider, reason) WHERE lifted_at IS NULL;
CREATE INDEX prepaid_freeze_provider ON prepaid_freeze (provider, since DESC);
"""

forwards = sql_migration("evaluation", ID, DESCRIPTION, SQL)
