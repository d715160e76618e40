from marketplace.core.db import sql_migration

ID = "2026-12-04T22:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Reports' own app: the report aggregates, kept by a scheduled job, rolled up by node path prefix"

# These tables were made by the marketplace app (marketplace_0007_reports) before reports
# became an app of its own. A database migrated then has them already, and this step
# changes nothing there (IF NOT EXISTS); on a fresh database it makes them.
SQL = """
-- Daily usage per (day in Shanghai, member's node, category, member group). member_group '*'
-- is every voucher once; each real group has rows of its own (a member in two groups counts
-- in both), so totals come from '*' rows only. node_path is the node's materialised path:
-- a roll-up to any node is a prefix scan of report_usage_path.
CREATE TABLE IF NOT EXISTS report_usage_daily (
    day date NOT NULL,
    node integer NOT NULL,
    node_path varchar(255) NOT NULL,
    category integer NOT NULL,
    member_group varchar(32) NOT NULL,
    claims integer NOT NULL DEFAULT 0,
    redemptions integer NOT NULL DEFAULT 0,
    subsidy_fen bigint NOT NULL DEFAULT 0,
    paid_fen bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, node, category, member_group)
);
CREATE INDEX IF NOT EXISTS report_usage_path ON report_usage_daily (node_path text_pattern_ops, day)
    INCLUDE (member_group, category, claims, redemptions, subsidy_fen, paid_fen);

-- Redemptions per (day, provider); node_path is the provider's node.
CREATE TABLE IF NOT EXISTS report_provider_daily (
    day date NOT NULL,
    provider integer NOT NULL,
    node_path varchar(255) NOT NULL,
    redemptions integer NOT NULL DEFAULT 0,
    subsidy_fen bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, provider)
);
CREATE INDEX IF NOT EXISTS report_provider_path ON report_provider_daily (node_path text_pattern_ops, day);

-- Searches that found nothing per (day, district, query). node_path is the path of the
-- district-level node whose name is the district ('' when no district node matches).
CREATE TABLE IF NOT EXISTS report_search_miss_daily (
    day date NOT NULL,
    district varchar(100) NOT NULL,
    query varchar(100) NOT NULL,
    node_path varchar(255) NOT NULL,
    misses integer NOT NULL DEFAULT 0,
    PRIMARY KEY (day, district, query)
);
CREATE INDEX IF NOT EXISTS report_search_miss_path ON report_search_miss_daily (node_path text_pattern_ops, day);

-- Members and providers per district-level node, recomputed whole on every run.
CREATE TABLE IF NOT EXISTS report_coverage (
    node integer PRIMARY KEY,
    node_path varchar(255) NOT NULL,
    district varchar(100) NOT NULL,
    members integer NOT NULL DEFAULT 0,
    providers integer NOT NULL DEFAULT 0,
    computed_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS report_coverage_path ON report_coverage (node_path text_pattern_ops);

-- When the aggregation last ran, and what it covered.
CREATE TABLE IF NOT EXISTS report_run (
    name varchar(32) PRIMARY KEY,
    last_run_at timestamptz NOT NULL,
    from_day date NOT NULL,
    seconds double precision NOT NULL DEFAULT 0
);
"""

forwards = sql_migration("reports", ID, DESCRIPTION, SQL)
