from marketplace.core.db import sql_migration

ID = "2026-12-05T22:00:00:000017"
VERSION = "1.38.0"
DESCRIPTION = (
    "Shared funding: a campaign's funding nodes with their shares and budgets, and each node's part of every use"
)

SQL = """
-- stop: the campaign stops paying when any share cannot pay its part; cover: the others cover it.
ALTER TABLE campaign ADD COLUMN policy varchar(8) NOT NULL DEFAULT 'stop' CHECK (policy IN ('stop', 'cover'));

-- A funding node of a campaign: its part of every use (fixed fen, or basis points of what the
-- fixed parts leave) and its own budget. The campaign's budget_fen and spent_fen are the sums
-- of its shares'; the share rows are locked after the campaign's row, in position order.
CREATE TABLE campaign_share (
    id bigserial PRIMARY KEY,
    campaign bigint NOT NULL REFERENCES campaign (id),
    node integer NOT NULL REFERENCES union_node (id),
    position smallint NOT NULL,
    kind varchar(8) NOT NULL CHECK (kind IN ('percent', 'fixed')),
    percent_bp integer NOT NULL DEFAULT 0,
    fixed_fen integer NOT NULL DEFAULT 0,
    budget_fen bigint NOT NULL CHECK (budget_fen > 0),
    spent_fen bigint NOT NULL DEFAULT 0 CHECK (spent_fen >= 0 AND spent_fen <= budget_fen),
    UNIQUE (campaign, node),
    UNIQUE (campaign, position),
    CHECK ((kind = 'percent' AND percent_bp BETWEEN 1 AND 10000 AND fixed_fen = 0)
        OR (kind = 'fixed' AND fixed_fen > 0 AND percent_bp = 0))
);

-- Each node's part of every use (a voucher): the funds flow per node, exact to the fen.
CREATE TABLE campaign_share_spend (
    id bigserial PRIMARY KEY,
    share bigint NOT NULL REFERENCES campaign_share (id),
    campaign bigint NOT NULL REFERENCES campaign (id),
    voucher bigint NOT NULL REFERENCES voucher (id),
    node integer NOT NULL REFERENCES union_node (id),
    amount_fen integer NOT NULL CHECK (amount_fen > 0),
    spent_at timestamptz NOT NULL,
    refunded_at timestamptz,
    UNIQUE (voucher, share)
);
CREATE INDEX campaign_share_spend_campaign ON campaign_share_spend (campaign, node);
CREATE INDEX campaign_share_spend_node ON campaign_share_spend (node, spent_at);

-- Every campaign so far had one paying node: one share of 100 % of it, with its budget and spent,
-- and each of its spends as that node's part.
INSERT INTO campaign_share (campaign, node, position, kind, percent_bp, budget_fen, spent_fen)
SELECT id, node, 1, 'percent', 10000, budget_fen, spent_fen FROM campaign;
INSERT INTO campaign_share_spend (share, campaign, voucher, node, amount_fen, spent_at, refunded_at)
SELECT sh.id, s.campaign, s.voucher, sh.node, s.amount_fen, s.spent_at, s.refunded_at
FROM campaign_spend s JOIN campaign_share sh ON sh.campaign = s.campaign;
"""

forwards = sql_migration("campaigns", ID, DESCRIPTION, SQL)
