from marketplace.core.db import sql_migration

ID = "2026-11-22T07:00:00:000003"
VERSION = "1.38.0"
DESCRIPTION = "Categories and offers"

SQL = """
CREATE TABLE category (
    id serial PRIMARY KEY,
    code varchar(32) NOT NULL UNIQUE,
    name_zh varchar(50) NOT NULL,
    name_en varchar(50) NOT NULL
);

CREATE TABLE offer (
    id bigserial PRIMARY KEY,
    provider integer NOT NULL REFERENCES provider (id),
    category integer NOT NULL REFERENCES category (id),
    kind varchar(16) NOT NULL CHECK (kind IN ('voucher', 'paid', 'points', 'slot')),
    title_zh varchar(100) NOT NULL,
    title_en varchar(100),
    description_zh text NOT NULL,
    description_en text,
    list_price_fen integer NOT NULL CHECK (list_price_fen >= 0),
    member_price_fen integer NOT NULL CHECK (member_price_fen >= 0 AND member_price_fen <= list_price_fen),
    subsidy_fen integer NOT NULL CHECK (subsidy_fen >= 0 AND subsidy_fen <= member_price_fen),
    points_price integer CHECK (points_price > 0),
    stock_total integer NOT NULL CHECK (stock_total >= 0),
    stock_left integer NOT NULL CHECK (stock_left >= 0 AND stock_left <= stock_total),
    per_member_limit integer NOT NULL CHECK (per_member_limit > 0),
    node_scope integer NOT NULL REFERENCES union_node (id),
    groups varchar(32)[] NOT NULL DEFAULT '{}',
    status varchar(16) NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'submitted', 'published', 'paused', 'expired')),
    valid_from timestamptz NOT NULL,
    valid_to timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_from < valid_to)
);
CREATE INDEX offer_provider ON offer (provider);
CREATE INDEX offer_published ON offer (category, created_at DESC) WHERE status = 'published';
"""


forwards = sql_migration("catalog", ID, DESCRIPTION, SQL)
