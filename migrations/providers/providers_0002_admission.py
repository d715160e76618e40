"""Provider admission: the review status changes_requested, a history of status changes,
and the contact phone stored encrypted and masked instead of in clear text."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from marketplace.core import pii
from marketplace.core.db import engine

ID = "2026-11-22T08:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Provider admission: review statuses, status history, encrypted contact phone"

BEFORE = """
ALTER TABLE provider DROP CONSTRAINT provider_status_check;
ALTER TABLE provider ALTER COLUMN status TYPE varchar(20);
ALTER TABLE provider ADD CONSTRAINT provider_status_check
    CHECK (status IN ('applied', 'changes_requested', 'active', 'rejected', 'suspended', 'delisted'));
ALTER TABLE provider
    ADD COLUMN contact_phone_cipher bytea,
    ADD COLUMN contact_phone_masked varchar(20),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE provider_status_change (
    id bigserial PRIMARY KEY,
    provider integer NOT NULL REFERENCES provider (id),
    from_status varchar(20),
    to_status varchar(20) NOT NULL,
    actor_kind varchar(10) NOT NULL CHECK (actor_kind IN ('provider', 'operator', 'system')),
    actor_id integer,
    reason varchar(500) NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provider_status_change_provider ON provider_status_change (provider, at);
CREATE INDEX provider_status ON provider (status, node);
"""

AFTER = """
ALTER TABLE provider
    ALTER COLUMN contact_phone_cipher SET NOT NULL,
    ALTER COLUMN contact_phone_masked SET NOT NULL,
    DROP COLUMN contact_phone;
"""


async def _apply(connection) -> None:
    await connection.execute(BEFORE)
    rows = await connection.fetch("SELECT id, contact_phone FROM provider")
    await connection.executemany(
        "UPDATE provider SET contact_phone_cipher = $2, contact_phone_masked = $3 WHERE id = $1",
        [(row["id"], pii.encrypt(row["contact_phone"]), pii.mask_phone(row["contact_phone"])) for row in rows],
    )
    await connection.execute(AFTER)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="providers", description=DESCRIPTION)

    async def run() -> None:
        # Migrations run in one transaction; the phones are encrypted with the app's key.
        transaction = engine().current_transaction.get()
        if transaction is not None:
            await _apply(transaction.connection)
            return
        async with engine().transaction() as transaction:
            await _apply(transaction.connection)

    manager.add_raw(run)
    return manager
