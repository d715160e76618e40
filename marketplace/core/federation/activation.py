"""Account activation by real-name matching and the phone: a member imported with the
roster has no password yet; they give their name, ID number and phone, which must all
match their roster row, then the code sent by SMS to that phone (so leaked identity data
alone take no account), and choose a password. The match goes through the keyed hashes
of the phone and the ID number (nothing is decrypted); a failure says nothing of which field was wrong, and
failures are throttled like sign-ins (per ID number and per address).
"""

import structlog

from marketplace.core import audit, pii
from marketplace.core.db import engine
from marketplace.core.errors import Unauthorized
from marketplace.core.federation.services import ID_NUMBER_PATTERN, PHONE_PATTERN
from marketplace.core.identity import sms, throttle
from marketplace.core.identity.password_rules import check_member_password
from marketplace.core.identity.passwords import hash_password
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics

log = structlog.get_logger(__name__)


def _no_match() -> Unauthorized:
    return Unauthorized(
        "These details do not match a member waiting for activation. Check them, or ask your union.",
        code="activation_failed",
    )


def _normal(name: str, id_number: str, phone: str) -> tuple[str, str, str]:
    return name.strip(), id_number.strip().upper(), phone.strip()


async def _candidate(name: str, id_number: str, phone: str) -> int | None:
    """The member waiting for activation whose roster row matches all three details."""
    if not (name and PHONE_PATTERN.match(phone) and ID_NUMBER_PATTERN.match(id_number)):
        return None
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT id FROM member WHERE id_number_hash = $1 AND phone_hash = $2 AND name = $3 "
            "AND password_hash IS NULL AND status = 'active'",
            pii.lookup_hash(id_number),
            pii.lookup_hash(phone),
            name,
        )


async def start(name: str, id_number: str, phone: str, address: str) -> None:
    """First step: the details match a member waiting for activation, and a code goes to the
    phone on file (the one the roster holds). Knowing name, ID and phone is not enough:
    the person must also hold the phone."""
    name, id_number, phone = _normal(name, id_number, phone)
    account_key, address_key = throttle.keys("activate", id_number, address)
    await throttle.count_attempt(account_key, address_key)
    member_id = await _candidate(name, id_number, phone)
    if member_id is None:
        log.info("member_activation_refused")
        await throttle.failed(account_key, address_key)
        raise _no_match()
    await throttle.forgive(account_key, address_key)
    await sms.send_code("activate", phone, member_id, address)


async def activate(name: str, id_number: str, phone: str, code: str, password: str) -> int:
    """Second step: the code sent to the phone, and the new password; returns the member id."""
    name, id_number, phone = _normal(name, id_number, phone)
    check_member_password(password, phone, id_number)
    member_id = await sms.check_code("activate", phone, code)
    if await _candidate(name, id_number, phone) != member_id:
        raise _no_match()
    async with engine().transaction() as transaction:
        connection = transaction.connection
        activated = await connection.fetchval(
            "UPDATE member SET password_hash = $2 WHERE id = $1 AND password_hash IS NULL AND status = 'active' "
            "RETURNING id",
            member_id,
            await hash_password(password),
        )
        if activated is None:
            raise _no_match()
        member = Principal(kind="member", id=member_id, display_name="")
        await audit.record(connection, member, "member.activate", "member", member_id)
        await outbox.publish(topics.MemberJoined(member_id=member_id))
    log.info("member_activated", member_id=member_id)
    return member_id


async def password_hash(member_id: int) -> str | None:
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval("SELECT password_hash FROM member WHERE id = $1", member_id)


async def set_password(member_id: int, new_hash: str) -> None:
    """A new password for an activated member (change or reset)."""
    async with engine().transaction() as transaction:
        found = await transaction.connection.fetchval(
            "UPDATE member SET password_hash = $2 WHERE id = $1 AND password_hash IS NOT NULL "
            "AND status IN ('active', 'left') RETURNING id",
            member_id,
            new_hash,
        )
    if found is None:
        raise _no_match()
