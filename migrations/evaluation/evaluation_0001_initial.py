from marketplace.core.db import sql_migration

ID = "2026-11-22T07:00:00:000004"
VERSION = "1.38.0"
DESCRIPTION = "Third-party evaluator organisations and their API keys"

SQL = """
CREATE TABLE evaluator_org (
    id serial PRIMARY KEY,
    name varchar(100) NOT NULL,
    node integer NOT NULL REFERENCES union_node (id),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE evaluator_api_key (
    id serial PRIMARY KEY,
    org integer NOT NULL REFERENCES evaluator_org (id),
    prefix varchar(16) NOT NULL UNIQUE,
    key_hash varchar(64) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    last_used_at timestamptz
);
"""


forwards = sql_migration("evaluation", ID, DESCRIPTION, SQL)
