from marketplace.core.db import sql_migration

ID = "2026-11-30T10:20:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Provider scorecards: the current figures over a rolling window, and monthly snapshots"

# The figures, shared by both tables. Every figure has its sample size beside it:
# satisfaction → ratings_n, honoured_low → honoured_n, complaints_per_100 →
# redemptions_n, median_response_hours → responses_n, third_party_score → third_party_n,
# trend → trend_recent_n and trend_previous_n, ranks → category_ranked_n / district_ranked_n.
FIGURES = """
    computed_at timestamptz NOT NULL,
    window_days integer NOT NULL CHECK (window_days > 0),
    category integer REFERENCES category (id),  -- the category of most of its redemptions
    district varchar(32),                       -- the district of most of its locations
    redemptions_n integer NOT NULL DEFAULT 0,
    ratings_n integer NOT NULL DEFAULT 0,       -- ratings held as suspicious are not counted
    ratings_sum integer NOT NULL DEFAULT 0,     -- Σ overall, so that category means stay exact
    prior_mean double precision,                -- m: the category's mean over the window
    prior_weight double precision NOT NULL,     -- C
    satisfaction double precision,              -- (C·m + Σx) / (C + n); NULL without ratings
    satisfaction_raw double precision,          -- Σx / n
    honoured_n integer NOT NULL DEFAULT 0,      -- redemptions with a yes/no answer
    honoured_yes integer NOT NULL DEFAULT 0,
    honoured_low double precision,              -- lower Wilson bound (95 %) of the yes share
    complaints_n integer NOT NULL DEFAULT 0,
    complaints_per_100 double precision,        -- per 100 redemptions; NULL without redemptions
    missed_responses_n integer NOT NULL DEFAULT 0,
    responses_n integer NOT NULL DEFAULT 0,     -- answered complaints
    median_response_hours double precision,
    third_party_n integer NOT NULL DEFAULT 0,   -- Σ sample sizes
    third_party_score double precision,         -- sample-size-weighted mean score, 0–100
    trend double precision,                     -- last 30 days minus the 30 before (plain means)
    trend_recent_n integer NOT NULL DEFAULT 0,
    trend_previous_n integer NOT NULL DEFAULT 0,
    rank_category integer,                      -- 1 = best satisfaction in its category
    category_ranked_n integer,
    rank_district integer,                      -- 1 = best satisfaction in its district
    district_ranked_n integer
"""

SQL = f"""
-- One row per admitted provider, replaced whole by the hourly recomputation and kept
-- current between runs for a provider whose ratings or third-party results changed.
CREATE TABLE provider_scorecard (
    id bigserial PRIMARY KEY,
    provider integer NOT NULL UNIQUE REFERENCES provider (id),
{FIGURES}
);
CREATE INDEX provider_scorecard_category ON provider_scorecard (category, satisfaction DESC);
CREATE INDEX provider_scorecard_district ON provider_scorecard (district, satisfaction DESC);

-- The figures of each calendar month (Asia/Shanghai), kept for trend charts.
CREATE TABLE scorecard_snapshot (
    id bigserial PRIMARY KEY,
    provider integer NOT NULL REFERENCES provider (id),
    month date NOT NULL CHECK (extract(day FROM month) = 1),
{FIGURES},
    UNIQUE (provider, month)
);
CREATE INDEX scorecard_snapshot_month ON scorecard_snapshot (month);
"""

forwards = sql_migration("evaluation", ID, DESCRIPTION, SQL)
