from marketplace.core.db import sql_migration

ID = "2026-11-30T10:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Third-party evaluators: result batches applied once, and follow-up samples of redemptions"

SQL = """
-- One submission by an evaluator organisation, named by the evaluator's own id. A batch
-- is applied whole or not at all; the same id again with the same content answers what
-- the first submission did (content_hash), with other content it is refused.
CREATE TABLE evaluator_batch (
    id serial PRIMARY KEY,
    org integer NOT NULL REFERENCES evaluator_org (id),
    batch_ref varchar(64) NOT NULL,
    source varchar(4) NOT NULL CHECK (source IN ('json', 'csv')),
    rows integer NOT NULL CHECK (rows >= 0),
    content_hash varchar(64) NOT NULL,
    received_at timestamptz NOT NULL,
    applied_at timestamptz,
    UNIQUE (org, batch_ref)
);

-- One visit or survey result for one provider. Scorecards read provider, visit_date,
-- method, score, sample_size and org.
CREATE TABLE evaluator_result (
    id bigserial PRIMARY KEY,
    batch integer NOT NULL REFERENCES evaluator_batch (id),
    org integer NOT NULL REFERENCES evaluator_org (id),
    provider integer NOT NULL REFERENCES provider (id),
    visit_date date NOT NULL,
    method varchar(20) NOT NULL CHECK (method IN
        ('mystery_shopper', 'phone_survey', 'online_survey', 'site_inspection')),
    score smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
    honoured smallint CHECK (honoured BETWEEN 0 AND 100),
    service smallint CHECK (service BETWEEN 0 AND 100),
    sample_size integer NOT NULL CHECK (sample_size >= 1),
    note varchar(500) NOT NULL DEFAULT ''
);
CREATE INDEX evaluator_result_provider_date ON evaluator_result (provider, visit_date);
CREATE INDEX evaluator_result_batch ON evaluator_result (batch);

-- Redemptions drawn at random for an evaluator to follow up; a redemption is drawn at
-- most once per organisation.
CREATE TABLE follow_up_sample (
    id bigserial PRIMARY KEY,
    org integer NOT NULL REFERENCES evaluator_org (id),
    provider integer NOT NULL REFERENCES provider (id),
    redemption bigint NOT NULL REFERENCES redemption (id),
    drawn_at timestamptz NOT NULL,
    UNIQUE (org, redemption)
);
CREATE INDEX follow_up_sample_org_time ON follow_up_sample (org, drawn_at);
"""

forwards = sql_migration("evaluation", ID, DESCRIPTION, SQL)
