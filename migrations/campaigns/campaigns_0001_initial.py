from marketplace.core.db import sql_migration

ID = "2026-12-02T09:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Subsidy campaigns of union nodes: budget, per-member cap, and every fen they paid"

SQL = """
CREATE TABLE campaign (
    id bigserial PRIMARY KEY,
    node integer NOT NULL REFERENCES union_node (id),
    name_zh varchar(200) NOT NULL,
    name_en varchar(200) NOT NULL DEFAULT '',
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    -- Empty: every member of the node's subtree.
    groups varchar(32)[] NOT NULL DEFAULT '{}',
    offer_ids bigint[] NOT NULL DEFAULT '{}',
    category_ids integer[] NOT NULL DEFAULT '{}',
    budget_fen bigint NOT NULL CHECK (budget_fen > 0),
    -- The one hot row of a campaign: a draw is one conditional UPDATE of it, and the
    -- CHECK is the last line of defence against overspending.
    spent_fen bigint NOT NULL DEFAULT 0 CHECK (spent_fen >= 0 AND spent_fen <= budget_fen),
    per_member_cap_fen integer NOT NULL CHECK (per_member_cap_fen > 0),
    status varchar(16) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'ended')),
    created_by integer REFERENCES operator (id),
    created_at timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX campaign_node ON campaign (node);
CREATE INDEX campaign_offers ON campaign USING gin (offer_ids) WHERE status = 'active';
CREATE INDEX campaign_categories ON campaign USING gin (category_ids) WHERE status = 'active';

-- What one member has drawn from one campaign: the per-member cap as one conditional upsert.
CREATE TABLE campaign_member (
    id bigserial PRIMARY KEY,
    campaign bigint NOT NULL REFERENCES campaign (id),
    member bigint NOT NULL REFERENCES member (id),
    spent_fen integer NOT NULL CHECK (spent_fen >= 0),
    UNIQUE (campaign, member)
);

-- Every fen a campaign paid, per voucher; node is the campaign's (funds flow).
CREATE TABLE campaign_spend (
    id bigserial PRIMARY KEY,
    campaign bigint NOT NULL REFERENCES campaign (id),
    voucher bigint NOT NULL UNIQUE REFERENCES voucher (id),
    member bigint NOT NULL REFERENCES member (id),
    node integer NOT NULL REFERENCES union_node (id),
    amount_fen integer NOT NULL CHECK (amount_fen > 0),
    spent_at timestamptz NOT NULL,
    refunded_at timestamptz
);
CREATE INDEX campaign_spend_campaign ON campaign_spend (campaign, spent_at);
"""

forwards = sql_migration("campaigns", ID, DESCRIPTION, SQL)
