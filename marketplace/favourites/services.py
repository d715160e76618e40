"""收藏: offers and providers a member keeps, to find them again from 我的.

A member may keep any offer they can see and any active provider; keeping one twice is
the same as keeping it once (unique per member and target). The list shows what is kept
even when an offer has since ended, said in words, so nothing disappears silently.
"""

from datetime import UTC, datetime
from typing import Literal

import structlog

from catalog.search import service as search
from marketplace.core import personal_data
from marketplace.core.db import engine
from marketplace.core.errors import NotFound
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from providers import services as providers

log = structlog.get_logger(__name__)

Kind = Literal["offer", "provider"]
KINDS = ("offer", "provider")
LIST_LIMIT = 200


@personal_data.forgets("favourite")
async def forget_member(connection, member_id: int) -> None:
    await connection.execute("DELETE FROM favourite WHERE member = $1", member_id)


async def _check_target(principal: Principal, kind: Kind, target_id: int) -> None:
    """The offer must be one this member may see, the provider an active one."""
    if kind == "offer":
        await search.offer_detail(principal, target_id)  # NotFound when out of reach
        return
    provider = await providers.get_provider(target_id)
    if provider is None or provider["status"] != "active":
        raise NotFound("This provider does not exist or is not open to you.", code="provider_not_found")


async def is_kept(principal: Principal | None, kind: Kind, target_id: int) -> bool:
    if principal is None or principal.kind != "member":
        return False
    async with engine().transaction() as transaction:
        return bool(
            await transaction.connection.fetchval(
                f"SELECT EXISTS (SELECT 1 FROM favourite WHERE member = $1 AND {kind} = $2)", principal.id, target_id
            )
        )


async def set_kept(principal: Principal, kind: Kind, target_id: int, keep: bool) -> bool:
    """Keep (keep=True) or let go of an offer or provider; returns whether it is kept now."""
    guards.require_member(principal)
    if kind not in KINDS:
        raise NotFound("Nothing to keep here.", code="favourite_kind")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        if keep:
            await _check_target(principal, kind, target_id)
            await connection.execute(
                f"INSERT INTO favourite (member, {kind}, created_at) VALUES ($1, $2, $3) "
                f"ON CONFLICT (member, {kind}) WHERE {kind} IS NOT NULL DO NOTHING",
                principal.id,
                target_id,
                datetime.now(UTC),
            )
        else:
            await connection.execute(
                f"DELETE FROM favourite WHERE member = $1 AND {kind} = $2", principal.id, target_id
            )
    log.info("favourite_set", kind=kind, target_id=target_id, keep=keep)
    return keep


async def toggle(principal: Principal, kind: Kind, target_id: int) -> bool:
    return await set_kept(principal, kind, target_id, not await is_kept(principal, kind, target_id))


async def counts(principal: Principal) -> dict[str, int]:
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT count(offer) AS offers, count(provider) AS providers FROM favourite WHERE member = $1", principal.id
        )
    return {"offers": row["offers"], "providers": row["providers"]}


async def mine(principal: Principal) -> dict[str, list[dict]]:
    """{"offers": [...], "providers": [...]}, the newest kept first. An offer that can no
    longer be claimed (ended, paused, sold out) comes with `available` False."""
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        offers = await connection.fetch(
            "SELECT o.id, o.title_zh, o.title_en, o.kind, o.list_price_fen, o.member_price_fen, o.subsidy_fen, "
            "o.points_price, o.stock_left, o.cover_image, c.code AS category, c.name_zh AS category_zh, "
            "c.name_en AS category_en, p.id AS provider_id, p.name AS provider_name, f.created_at AS kept_at, "
            "(o.status = 'published' AND p.status = 'active' AND o.valid_to > now() AND o.stock_left > 0) "
            "AS available "
            "FROM favourite f JOIN offer o ON o.id = f.offer JOIN provider p ON p.id = o.provider "
            "JOIN category c ON c.id = o.category WHERE f.member = $1 ORDER BY f.created_at DESC, f.id DESC "
            "LIMIT $2",
            principal.id,
            LIST_LIMIT,
        )
        kept_providers = await connection.fetch(
            "SELECT p.id, p.name, p.kind, p.status = 'active' AS available, f.created_at AS kept_at, "
            "(SELECT min(l.district) FROM location l WHERE l.provider = p.id) AS district "
            "FROM favourite f JOIN provider p ON p.id = f.provider WHERE f.member = $1 "
            "ORDER BY f.created_at DESC, f.id DESC LIMIT $2",
            principal.id,
            LIST_LIMIT,
        )
    return {"offers": [dict(row) for row in offers], "providers": [dict(row) for row in kept_providers]}


async def for_data_export(principal: Principal) -> list[dict]:
    """What a member's data download holds of their favourites."""
    kept = await mine(principal)
    return [
        {"kind": "offer", "id": row["id"], "title": row["title_zh"], "kept_at": row["kept_at"]}
        for row in kept["offers"]
    ] + [
        {"kind": "provider", "id": row["id"], "name": row["name"], "kept_at": row["kept_at"]}
        for row in kept["providers"]
    ]
