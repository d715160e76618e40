from marketplace.core.db import sql_migration

ID = "2026-11-30T10:40:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Roster imports: each CSV of members, its progress, outcome and per-row errors"

SQL = """
CREATE TABLE roster_import (
    id bigserial PRIMARY KEY,
    operator integer NOT NULL REFERENCES operator (id),
    node integer NOT NULL REFERENCES union_node (id),
    filename varchar(255) NOT NULL DEFAULT '',
    rows integer NOT NULL DEFAULT 0,
    created integer NOT NULL DEFAULT 0,
    updated integer NOT NULL DEFAULT 0,
    unchanged integer NOT NULL DEFAULT 0,
    status varchar(16) NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'validating', 'applying', 'done', 'failed')),
    rows_done integer NOT NULL DEFAULT 0,
    errors jsonb NOT NULL DEFAULT '[]',
    error_count integer NOT NULL DEFAULT 0,
    content_hash varchar(64) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX roster_import_node ON roster_import (node, created_at DESC);

-- The uploaded file of an import that runs as a job, until the job has read it.
CREATE TABLE roster_import_file (
    import bigint PRIMARY KEY REFERENCES roster_import (id) ON DELETE CASCADE,
    content bytea NOT NULL
);
"""

forwards = sql_migration("marketplace", ID, DESCRIPTION, SQL)
