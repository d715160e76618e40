"""Rotating the key that encrypts phones and ID numbers: during the rotation both keys
read, `rotate_key` rewrites every value, and then the old key is no longer needed."""

import dataclasses
import os

import pytest
from cryptography.exceptions import InvalidTag

from marketplace.core import pii
from marketplace.core.db import engine
from marketplace.core.settings import get_settings

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def test_the_encryption_key_rotates_without_losing_a_value(world, monkeypatch):
    settings = get_settings()
    new_key = os.urandom(32)

    def with_keys(current: bytes, old: bytes | None):
        security = dataclasses.replace(settings.security, pii_encryption_key=current, pii_encryption_key_old=old)
        return dataclasses.replace(settings, security=security)

    member_id, phone = world.members["chaoyang"]
    read = lambda: engine().run_ddl(f"SELECT phone_cipher FROM member WHERE id = {member_id}")  # noqa: E731
    blob = bytes((await read())[0]["phone_cipher"])
    monkeypatch.setattr(pii, "get_settings", lambda: with_keys(new_key, None))
    with pytest.raises(InvalidTag):
        pii.decrypt(blob)  # the new key alone cannot read what the old one wrote
    monkeypatch.setattr(pii, "get_settings", lambda: with_keys(new_key, settings.security.pii_encryption_key))
    assert pii.decrypt(blob) == phone  # during the rotation, both are read
    assert await pii.rotate_key(batch=1) >= 6  # two members and two providers' contact phones, at least
    monkeypatch.setattr(pii, "get_settings", lambda: with_keys(new_key, None))
    assert pii.decrypt(bytes((await read())[0]["phone_cipher"])) == phone  # the old key is no longer needed
