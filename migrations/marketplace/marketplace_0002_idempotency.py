from marketplace.core.db import sql_migration

ID = "2026-11-30T07:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Idempotency keys of retried requests and the answers they got"

SQL = """
CREATE TABLE idempotency_key (
    id bigserial PRIMARY KEY,
    principal varchar(40) NOT NULL,
    key varchar(255) NOT NULL,
    fingerprint bytea NOT NULL,
    response jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (principal, key)
);
CREATE INDEX idempotency_key_created ON idempotency_key (created_at);
"""

forwards = sql_migration("marketplace", ID, DESCRIPTION, SQL)
