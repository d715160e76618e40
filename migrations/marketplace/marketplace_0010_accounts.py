from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from marketplace.core.db import engine, execute_script

ID = "2026-12-04T16:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Operator accounts: TOTP secret encrypted, replay step, recovery codes, forced password change"

BEFORE = """
ALTER TABLE operator
    ADD COLUMN totp_secret_cipher bytea,
    -- The last 30-second step whose code signed in: a code is good once (replay).
    ADD COLUMN totp_last_step bigint,
    -- Set when an administrator resets the password: the next sign-in must choose a new one.
    ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
-- Ten one-use codes for when the authenticator is lost; only their keyed hash is kept.
CREATE TABLE operator_recovery_code (
    id bigserial PRIMARY KEY,
    operator integer NOT NULL REFERENCES operator (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    created_at timestamptz NOT NULL,
    used_at timestamptz,
    UNIQUE (operator, code_hash)
);
"""

AFTER = "ALTER TABLE operator DROP COLUMN totp_secret;"


async def _encrypt_existing_secrets() -> None:
    """TOTP secrets were stored in clear: encrypt each with the personal-data key."""
    from marketplace.core import pii

    connection = engine().current_transaction.get().connection
    for row in await connection.fetch("SELECT id, totp_secret FROM operator WHERE totp_secret IS NOT NULL"):
        await connection.execute(
            "UPDATE operator SET totp_secret_cipher = $2 WHERE id = $1", row["id"], pii.encrypt(row["totp_secret"])
        )


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="marketplace", description=DESCRIPTION)

    async def run() -> None:
        await execute_script(BEFORE)
        await _encrypt_existing_secrets()
        await execute_script(AFTER)

    manager.add_raw(run)
    return manager
