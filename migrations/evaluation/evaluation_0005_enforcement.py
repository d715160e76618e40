from marketplace.core.db import sql_migration

ID = "2026-11-30T10:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Enforcement: versioned policies per node, each provider's standing, cases, decisions, appeals"

SQL = """
-- What the burst checks need, kept with the rating (evaluation does not read members).
ALTER TABLE rating ADD COLUMN network varchar(50) NOT NULL DEFAULT '',
    ADD COLUMN new_account boolean NOT NULL DEFAULT false;
-- The member's name as providers and operators see it, masked when the complaint is filed.
ALTER TABLE complaint ADD COLUMN member_masked varchar(50) NOT NULL DEFAULT '';

-- A policy belongs to a federation node and applies to providers under it (the nearest
-- node with a policy wins). A new version never rewrites an old one: cases keep theirs.
CREATE TABLE enforcement_policy (
    id serial PRIMARY KEY,
    node integer NOT NULL REFERENCES union_node (id),
    version integer NOT NULL,
    rules jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    created_by integer REFERENCES operator (id),
    UNIQUE (node, version)
);

CREATE TABLE provider_standing (
    id serial PRIMARY KEY,
    provider integer NOT NULL UNIQUE REFERENCES provider (id),
    state varchar(12) NOT NULL DEFAULT 'good'
        CHECK (state IN ('good', 'watch', 'warning', 'probation', 'delisted')),
    since timestamptz NOT NULL,
    deadline timestamptz,  -- until when the provider has to improve before the next step
    policy integer REFERENCES enforcement_policy (id),
    reasons jsonb NOT NULL DEFAULT '[]'
);

-- A case: a proposal to delist (or a suspicious-redemption signal), decided by an operator.
CREATE TABLE enforcement_case (
    id serial PRIMARY KEY,
    provider integer NOT NULL REFERENCES provider (id),
    kind varchar(20) NOT NULL CHECK (kind IN ('delisting', 'integrity')),
    status varchar(12) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'decided', 'appealed', 'closed')),
    policy integer REFERENCES enforcement_policy (id),
    figures jsonb NOT NULL,   -- the scorecard as it stood when the case opened
    reasons jsonb NOT NULL,
    opened_at timestamptz NOT NULL,
    decision varchar(12) CHECK (decision IN ('delist', 'keep')),
    decided_by integer REFERENCES operator (id),
    decided_at timestamptz,
    explanation text,
    cancel_vouchers boolean NOT NULL DEFAULT false,
    appeal_statement text,
    appealed_at timestamptz,
    appeal_outcome varchar(10) CHECK (appeal_outcome IN ('upheld', 'rejected')),
    appeal_decided_by integer REFERENCES operator (id),
    appeal_decided_at timestamptz,
    appeal_explanation text
);
CREATE INDEX enforcement_case_open ON enforcement_case (status, opened_at);
-- At most one open delisting case per provider.
CREATE UNIQUE INDEX enforcement_case_one_open ON enforcement_case (provider)
    WHERE kind = 'delisting' AND status IN ('open', 'appealed');

-- Everything that happened to a provider's standing, in words, for the provider to read.
CREATE TABLE standing_event (
    id bigserial PRIMARY KEY,
    provider integer NOT NULL REFERENCES provider (id),
    case_id integer REFERENCES enforcement_case (id),
    from_state varchar(12),
    to_state varchar(12),
    message text NOT NULL,
    actor_kind varchar(12) NOT NULL,  -- policy, operator, provider
    actor_id integer,
    created_at timestamptz NOT NULL
);
CREATE INDEX standing_event_provider ON standing_event (provider, created_at DESC);
"""

forwards = sql_migration("evaluation", ID, DESCRIPTION, SQL)
