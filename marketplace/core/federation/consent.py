"""A member's consent to be contacted by third-party evaluators, and the contact details
of those who gave it.

The consent is `member.preferences["evaluator_contact"]` (false unless the member turned
it on, on their account page). Evaluation never reads the member table: the composition
root hands `evaluator_contacts` to its export as a dependency.
"""

import json
from dataclasses import dataclass

from marketplace.core import db, pii
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal

PREFERENCE = "evaluator_contact"


@dataclass(frozen=True)
class MemberContact:
    member_id: int
    consented: bool
    name_masked: str
    # Only when the member consented; None otherwise.
    name: str | None = None
    phone: str | None = None


async def evaluator_contact(principal: Principal) -> bool:
    """Whether the signed-in member lets evaluators contact them."""
    guards.require_member(principal)
    async with db.connection() as connection:
        value = await connection.fetchval(
            "SELECT coalesce((preferences ->> $2)::boolean, false) FROM member WHERE id = $1", principal.id, PREFERENCE
        )
    return bool(value)


async def set_evaluator_contact(principal: Principal, allowed: bool) -> bool:
    """The member turns their consent on or off; returns what is now stored."""
    guards.require_member(principal)
    async with db.connection() as connection:
        await connection.execute(
            "UPDATE member SET preferences = coalesce(preferences, '{}'::jsonb) || $2::jsonb WHERE id = $1",
            principal.id,
            json.dumps({PREFERENCE: bool(allowed)}),
        )
    return bool(allowed)


async def evaluator_contacts(connection, member_ids: list[int]) -> dict[int, MemberContact]:
    """Every one of `member_ids` with a masked name; name and phone (decrypted) only of the
    members who consented. Runs on the caller's connection (the export's transaction)."""
    rows = await connection.fetch(
        "SELECT id, name, phone_cipher, coalesce((preferences ->> $2)::boolean, false) AS consented "
        "FROM member WHERE id = ANY($1::bigint[])",
        list(member_ids),
        PREFERENCE,
    )
    contacts = {}
    for row in rows:
        consented = bool(row["consented"])
        contacts[row["id"]] = MemberContact(
            member_id=row["id"],
            consented=consented,
            name_masked=pii.mask_name(row["name"]),
            name=row["name"] if consented else None,
            phone=pii.decrypt(bytes(row["phone_cipher"])) if consented else None,
        )
    return contacts
