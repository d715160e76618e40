"""providers_0002 encrypts the contact phones of providers that existed before it."""

import importlib

import pytest

from marketplace.core import pii
from marketplace.core.db import engine

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

migration = importlib.import_module("migrations.providers.providers_0002_admission")

UNDO = """
DROP TABLE provider_status_change;
DROP INDEX provider_status;
ALTER TABLE provider DROP COLUMN contact_phone_cipher, DROP COLUMN contact_phone_masked,
    DROP COLUMN updated_at, ADD COLUMN contact_phone varchar(20);
"""


class _RolledBack(Exception):
    pass


async def test_existing_phones_are_encrypted_masked_and_the_clear_column_dropped(world):
    with pytest.raises(_RolledBack):
        async with engine().transaction() as transaction:
            connection = transaction.connection
            await connection.execute(UNDO)  # back to the schema of providers_0001, inside the transaction
            await connection.execute("UPDATE provider SET contact_phone = '1391234' || lpad(id::text, 4, '0')")
            await migration._apply(connection)
            rows = await connection.fetch("SELECT id, contact_phone_cipher, contact_phone_masked FROM provider")
            assert len(rows) == 2
            for row in rows:
                phone = f"1391234{row['id']:04d}"
                assert pii.decrypt(row["contact_phone_cipher"]) == phone
                assert row["contact_phone_masked"] == pii.mask_phone(phone)
            columns = await connection.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'provider'"
            )
            assert "contact_phone" not in {column["column_name"] for column in columns}
            raise _RolledBack  # leave the database as the session migrated it
