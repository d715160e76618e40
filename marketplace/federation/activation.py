"""Account activation by real-name matching: a member imported with the roster has no
password yet; they set one by giving their name, ID number and phone, which must all
match their roster row. The match goes through the keyed hashes of the phone and the
ID number (nothing is decrypted); a failure says nothing of which field was wrong, and
failures are throttled like sign-ins (per ID number and per address).
"""

import structlog

from marketplace import audit
from marketplace.db import engine
from marketplace.errors import Invalid, Unauthorized
from marketplace.federation.services import ID_NUMBER_PATTERN, PHONE_PATTERN
from marketplace.identity import throttle
from marketplace.identity.passwords import hash_password
from marketplace.identity.principal import Principal
from marketplace.jobs import outbox
from marketplace import pii

log = structlog.get_logger(__name__)

MIN_PASSWORD = 8
MAX_PASSWORD = 128
NO_MATCH = "These details do not match a member waiting for activation. Check them, or ask your union."


def check_password(password: str, phone: str, id_number: str) -> None:
    from providers.services import COMMON_PASSWORDS  # the identity rules' list of common passwords

    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid(f"password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters.", code="weak_password",
                      field="password")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or lowered in (phone, id_number.lower()) or lowered.isdigit() and (
            lowered in phone or lowered in id_number):
        raise Invalid("This password is too easy to guess; choose another.", code="weak_password", field="password")


async def activate(name: str, id_number: str, phone: str, password: str, address: str) -> int:
    """Set the password of the member whose roster row matches; returns the member id."""
    name, id_number, phone = name.strip(), id_number.strip().upper(), phone.strip()
    check_password(password, phone, id_number)
    account_key, address_key = throttle.keys("activate", id_number, address)
    await throttle.count_attempt(account_key, address_key)
    member_id = None
    if name and PHONE_PATTERN.match(phone) and ID_NUMBER_PATTERN.match(id_number):
        async with engine().transaction() as transaction:
            connection = transaction.connection
            member_id = await connection.fetchval(
                "UPDATE member SET password_hash = $4 WHERE id_number_hash = $1 AND phone_hash = $2 AND name = $3 "
                "AND password_hash IS NULL AND status = 'active' RETURNING id",
                pii.lookup_hash(id_number), pii.lookup_hash(phone), name, await hash_password(password))
            if member_id is not None:
                member = Principal(kind="member", id=member_id, display_name="")
                await audit.record(connection, member, "member.activate", "member", member_id)
                await outbox.publish("member.joined", {"member_id": member_id})
    if member_id is None:
        log.info("member_activation_refused")
        raise Unauthorized(NO_MATCH, code="activation_failed")
    await throttle.forgive(account_key, address_key)
    log.info("member_activated", member_id=member_id)
    return member_id
