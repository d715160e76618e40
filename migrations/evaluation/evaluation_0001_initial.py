from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from marketplace.db import execute_script

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


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evaluation", description=DESCRIPTION)

    async def run():
        await execute_script(SQL)

    manager.add_raw(run)
    return manager
