"""Offers: what providers list, operators review and members browse.

Lifecycle: draft → submitted → published ⇄ paused, and published/paused → expired when
the validity window ends. An edit of a published (or paused) offer is an OfferRevision
reviewed while the live version stays visible. Every change to what members may see
publishes `offer.changed` {"offer_id"} in the transaction of the change.
"""

import io
import json
import secrets
import time
from datetime import UTC, datetime

import anyio.to_thread
import msgspec
import structlog
from asyncpg.exceptions import CheckViolationError, UniqueViolationError

from catalog.schemas import (
    Change,
    OfferInput,
    OfferRead,
    OfferSummary,
    ReviewDetail,
    ReviewItem,
    SlotRead,
)
from marketplace.core import db, media
from marketplace.core.db import engine, search_text
from marketplace.core.errors import Conflict, Invalid, NotFound
from marketplace.core.federation import services as federation
from marketplace.core.federation.scope import require_in_scope, require_owned
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics
from providers import services as providers

log = structlog.get_logger(__name__)

_CARD_SQL = (
    "SELECT o.id, o.kind, o.title_zh, o.title_en, o.list_price_fen, o.member_price_fen, o.subsidy_fen, "
    "o.points_price, o.stock_left, o.status, o.valid_to, o.cover_image, c.name_zh AS category_zh, "
    "c.name_en AS category_en, p.name AS provider_name "
    "FROM offer o JOIN category c ON c.id = o.category JOIN provider p ON p.id = o.provider "
)


async def visible_offers(node_path: str | None, groups: tuple[str, ...], limit: int = 20) -> list[dict]:
    """Published offers of active providers that a member of `node_path` in `groups` may
    claim (anonymous visitors: offers open to everyone). Newest first."""
    return await db.fetch(
        _CARD_SQL + "JOIN union_node scope ON scope.id = o.node_scope "
        "WHERE o.status = 'published' AND p.status = 'active' AND o.valid_to > now() "
        "AND (($1::text IS NULL AND scope.depth <= 1) OR $1::text LIKE scope.path || '%') "
        "AND (cardinality(o.groups) = 0 OR o.groups && $2::varchar[]) "
        "ORDER BY o.published_at DESC NULLS LAST, o.id DESC LIMIT $3",
        node_path,
        list(groups),
        limit,
    )


async def provider_offers(provider_id: int, limit: int = 50) -> list[dict]:
    return await db.fetch(
        _CARD_SQL + "WHERE o.provider = $1 ORDER BY o.created_at DESC, o.id DESC LIMIT $2",
        provider_id,
        limit,
    )


# Reading ---------------------------------------------------------------------------------


def thumbnail_of(cover_image: str | None) -> str | None:
    return thumbnail_name(cover_image) if cover_image else None


def thumbnail_name(name: str) -> str:
    return name.replace(".jpg", "-400.jpg")


async def _fetch_offer(connection, offer_id: int, *, lock: bool = False) -> dict:
    row = await connection.fetchrow(
        "SELECT o.*, p.node AS provider_node, p.status AS provider_status FROM offer o "
        "JOIN provider p ON p.id = o.provider WHERE o.id = $1" + (" FOR UPDATE OF o" if lock else ""),
        offer_id,
    )
    if row is None:
        raise _no_offer()
    return dict(row)


def _no_offer() -> NotFound:
    """The answer to a missing offer, and to one out of the caller's reach (scope.py's policy)."""
    return NotFound("This offer does not exist.", code="offer_not_found")


async def _read(connection, offer: dict) -> OfferRead:
    locations = await connection.fetch(
        "SELECT location FROM offer_location WHERE offer = $1 ORDER BY location", offer["id"]
    )
    slots = await connection.fetch(
        "SELECT id, starts_at, ends_at, capacity, booked FROM offer_slot WHERE offer = $1 ORDER BY starts_at",
        offer["id"],
    )
    pending = await connection.fetchval(
        "SELECT id FROM offer_revision WHERE offer = $1 AND status = 'submitted'", offer["id"]
    )
    return OfferRead(
        id=offer["id"],
        provider_id=offer["provider"],
        status=offer["status"],
        kind=offer["kind"],
        category_id=offer["category"],
        title_zh=offer["title_zh"],
        title_en=offer["title_en"],
        description_zh=offer["description_zh"],
        description_en=offer["description_en"],
        list_price_fen=offer["list_price_fen"],
        member_price_fen=offer["member_price_fen"],
        subsidy_fen=offer["subsidy_fen"],
        points_price=offer["points_price"],
        stock_total=offer["stock_total"],
        stock_left=offer["stock_left"],
        per_member_limit=offer["per_member_limit"],
        limit_period=offer["limit_period"],
        valid_from=offer["valid_from"],
        valid_to=offer["valid_to"],
        node_scope_id=offer["node_scope"],
        tags=list(offer["tags"]),
        groups=list(offer["groups"]),
        location_ids=[row["location"] for row in locations],
        terms_zh=offer["terms_zh"],
        terms_en=offer["terms_en"],
        cover_image=offer["cover_image"],
        cover_thumbnail=thumbnail_of(offer["cover_image"]),
        published_at=offer["published_at"],
        updated_at=offer["updated_at"],
        review_note=offer["review_note"],
        slots=[SlotRead(**dict(row)) for row in slots],
        package_sessions=offer.get("package_sessions"),
        package_months=offer.get("package_months"),
        pending_revision_id=pending,
    )


def _own(principal: Principal, offer: dict) -> None:
    require_owned(offer["provider"], principal.provider_id if principal.kind == "provider" else None, _no_offer())


async def get_offer(principal: Principal, offer_id: int) -> OfferRead:
    """One offer of the principal's provider, or, for an operator, one in their scope."""
    async with engine().transaction() as transaction:
        offer = await _fetch_offer(transaction.connection, offer_id)
        await _check_reader(principal, offer)
        return await _read(transaction.connection, offer)


async def _check_reader(principal: Principal, offer: dict) -> None:
    if principal.kind == "operator":
        await require_in_scope(principal, offer["provider_node"], _no_offer())
    else:
        _own(principal, offer)


async def list_provider_offers(principal: Principal) -> list[OfferSummary]:
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT o.id, o.status, o.kind, o.title_zh, o.title_en, o.member_price_fen, o.stock_left, "
            "o.valid_to, r.id AS pending_revision_id FROM offer o "
            "LEFT JOIN offer_revision r ON r.offer = o.id AND r.status = 'submitted' "
            "WHERE o.provider = $1 ORDER BY o.created_at DESC, o.id DESC",
            principal.provider_id,
        )
    return [OfferSummary(**dict(row)) for row in rows]


# Validation ------------------------------------------------------------------------------


async def _validate(connection, provider_id: int, provider_node: int, data: OfferInput) -> None:
    """Rules across fields and against the database; the schema bounds each field."""
    if data.member_price_fen > data.list_price_fen:
        raise Invalid("The member price cannot be higher than the list price.", field="member_price_fen")
    if data.subsidy_fen > data.member_price_fen:
        raise Invalid("The union subsidy cannot be higher than the member price.", field="subsidy_fen")
    if data.kind == "points" and data.points_price is None:
        raise Invalid("Enter the points a member pays.", field="points_price")
    if data.kind != "points" and data.points_price is not None:
        raise Invalid("Only a points exchange has a points price.", field="points_price")
    if data.kind == "prepaid" and data.package_months is None:
        raise Invalid("Enter how many months the package is valid from the purchase.", field="package_months")
    if data.kind != "prepaid" and (data.package_months is not None or data.package_sessions is not None):
        raise Invalid("Only a prepaid package has sessions and months of validity.", field="package_months")
    if data.kind == "prepaid" and data.member_price_fen <= data.subsidy_fen:
        raise Invalid("A prepaid package needs a member price above the union subsidy.", field="member_price_fen")
    if data.valid_from >= data.valid_to:
        raise Invalid("The first day must come before the last day.", field="valid_from")
    for name in ("title_zh", "description_zh"):
        if not getattr(data, name).strip():
            raise Invalid("Fill in this field.", field=name)
    if len(set(data.tags)) != len(data.tags):
        raise Invalid("Each tag only once.", field="tags")
    if not await connection.fetchval("SELECT 1 FROM category WHERE id = $1", data.category_id):
        raise Invalid("Choose a category from the list.", field="category_id")
    try:
        scope = await federation.get_node(data.node_scope_id)
    except NotFound:
        raise Invalid("Choose a union from the list.", field="node_scope_id") from None
    home = await federation.get_node(provider_node)
    if not scope.path.startswith(home.path):
        raise Invalid("Choose your own federation or a union inside it.", field="node_scope_id")
    unknown = set(data.groups) - await federation.group_codes()
    if unknown:
        raise Invalid("Choose member groups from the list.", field="groups")
    own_locations = {row["id"] for row in await providers.list_locations(provider_id)}
    foreign = set(data.location_ids) - own_locations
    if foreign:
        raise Invalid("Choose among your own locations.", field="location_ids")
    if data.kind == "slot":
        if not data.slots:
            raise Invalid("A booking needs at least one time slot.", field="slots")
        starts = [slot.starts_at for slot in data.slots]
        if len(set(starts)) != len(starts):
            raise Invalid("Two time slots cannot start at the same time.", field="slots")
        if any(slot.starts_at >= slot.ends_at for slot in data.slots):
            raise Invalid("Every time slot must start before it ends.", field="slots")
    elif data.slots:
        raise Invalid("Only a booking has time slots.", field="slots")


_COLUMNS = (
    "kind",
    "title_zh",
    "title_en",
    "description_zh",
    "description_en",
    "list_price_fen",
    "member_price_fen",
    "subsidy_fen",
    "points_price",
    "per_member_limit",
    "limit_period",
    "valid_from",
    "valid_to",
    "tags",
    "groups",
    "terms_zh",
    "terms_en",
    "package_sessions",
    "package_months",
)


def _values(data: OfferInput) -> list:
    return [getattr(data, name) for name in _COLUMNS] + [data.category_id, data.node_scope_id]


async def _write_children(connection, offer_id: int, data: OfferInput) -> None:
    await connection.execute("DELETE FROM offer_location WHERE offer = $1", offer_id)
    await connection.executemany(
        "INSERT INTO offer_location (offer, location) VALUES ($1, $2)",
        [(offer_id, location) for location in sorted(set(data.location_ids))],
    )
    starts = [slot.starts_at for slot in data.slots]
    # Booked slots stay (their bookings stand); free ones not in the new list go.
    await connection.execute(
        "DELETE FROM offer_slot WHERE offer = $1 AND booked = 0 AND NOT (starts_at = ANY($2::timestamptz[]))",
        offer_id,
        starts,
    )
    try:
        await connection.executemany(
            "INSERT INTO offer_slot (offer, starts_at, ends_at, capacity) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (offer, starts_at) DO UPDATE SET ends_at = EXCLUDED.ends_at, capacity = EXCLUDED.capacity",
            [(offer_id, slot.starts_at, slot.ends_at, slot.capacity) for slot in data.slots],
        )
    except CheckViolationError as error:
        raise Invalid("A time slot cannot hold fewer places than it has bookings.", field="slots") from error


# Provider actions --------------------------------------------------------------------------


# The terms a prepaid package shows before paying when its provider wrote none: plain
# Chinese, the rules marketplace/prepaid applies (cooling-off, unused sessions, closure).
PREPAID_TERMS_ZH = (
    "1. 购买后7天内且未使用任何一次，可在“我的套餐”一键全额退款。\n"
    "2. 您支付的款项由工会平台托管，每使用一次，才向商家结算一次的费用；期卡按月结算。\n"
    "3. 商家下架、停业或搬迁无法继续服务时，未使用部分自动原路退回，无需申请。\n"
    "4. 有效期内未用完的次数，可申请退还未使用部分；工会补贴部分退回工会。\n"
    "5. 本套餐不设“过期不退”条款。"
)


def with_default_terms(data: OfferInput) -> OfferInput:
    """A prepaid package without terms gets the plain-Chinese default terms."""
    if data.kind == "prepaid" and not data.terms_zh.strip():
        return msgspec.structs.replace(data, terms_zh=PREPAID_TERMS_ZH)
    return data


async def create_offer(principal: Principal, data: OfferInput) -> OfferRead:
    """A new draft of the principal's provider."""
    guards.require_owner(principal)
    data = with_default_terms(data)
    provider = await providers.own_provider(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        await _validate(connection, provider["id"], provider["node"], data)
        placeholders = ", ".join(f"${i}" for i in range(1, len(_COLUMNS) + 3))
        offer_id = await connection.fetchval(
            f"INSERT INTO offer ({', '.join(_COLUMNS)}, category, node_scope, provider, stock_total, "
            f"stock_left, status) VALUES ({placeholders}, ${len(_COLUMNS) + 3}, ${len(_COLUMNS) + 4}, "
            f"${len(_COLUMNS) + 4}, 'draft') RETURNING id",
            *_values(data),
            provider["id"],
            data.stock_total,
        )
        await _write_children(connection, offer_id, data)
        return await _read(connection, await _fetch_offer(connection, offer_id))


# Who besides the provider decides an offer's union subsidy. A union's campaign pays an
# offer's subsidy from its budget (marketplace/campaigns); while one lists the offer or its
# category, the amount is the union's to change, not the provider's. The campaigns module
# registers its lookup here, since catalog may not import it: (connection, offer_id,
# category_id) → the campaigns paying it, each a dict with name_zh, name_en, node_name_zh,
# node_name_en and ends_at.
_subsidy_setters: list = []


def register_subsidy_setter(lookup) -> None:
    _subsidy_setters.append(lookup)


async def union_subsidy(offer_id: int, category_id: int, connection=None) -> list[dict]:
    """The campaigns that set this offer's subsidy now (empty: the provider may set it)."""
    if connection is None:
        async with engine().transaction() as transaction:
            return await union_subsidy(offer_id, category_id, transaction.connection)
    found: list[dict] = []
    for lookup in _subsidy_setters:
        found += await lookup(connection, offer_id, category_id)
    return found


# Checks other domains make before an offer (or an edit of it) is published. Catalog may not
# import evaluation (layers), so evaluation registers its checks here when its enforcement
# module is imported (evaluation/enforcement/prepaid_rules.py: a prepaid package outside the
# policy's caps is refused with the rule named). A check is `async (connection, offer) ->
# None` that raises a DomainError; `offer` is the offer's columns as a dict (kind, provider,
# list_price_fen, member_price_fen, subsidy_fen, and the prepaid package_sessions and
# package_months when the offer has them).
_listing_checks: list = []


def register_listing_check(check) -> None:
    if check not in _listing_checks:
        _listing_checks.append(check)


async def _check_listing(connection, offer: dict) -> None:
    for check in _listing_checks:
        await check(connection, offer)


async def update_offer(principal: Principal, offer_id: int, data: OfferInput) -> OfferRead:
    """Edit a draft in place; an edit of a published or paused offer becomes a revision
    for review (the live version stays as it is)."""
    guards.require_owner(principal)
    data = with_default_terms(data)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        offer = await _fetch_offer(connection, offer_id, lock=True)
        _own(principal, offer)
        await _validate(connection, offer["provider"], offer["provider_node"], data)
        if data.subsidy_fen != offer["subsidy_fen"]:
            campaigns = await union_subsidy(offer_id, offer["category"], connection)
            if campaigns:
                raise Invalid(
                    "The union pays this subsidy through its campaign %(campaign)s; only the union can change it.",
                    field="subsidy_fen",
                    code="subsidy_set_by_union",
                    params={"campaign": campaigns[0]["name_zh"]},
                )
        if offer["status"] == "draft":
            assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(_COLUMNS, start=1))
            n = len(_COLUMNS)
            await connection.execute(
                f"UPDATE offer SET {assignments}, category = ${n + 1}, node_scope = ${n + 2}, "
                f"stock_total = ${n + 3}, stock_left = ${n + 3}, updated_at = now() WHERE id = ${n + 4}",
                *_values(data),
                data.stock_total,
                offer_id,
            )
            await _write_children(connection, offer_id, data)
        elif offer["status"] in ("published", "paused"):
            payload = json.dumps(msgspec.to_builtins(data))
            try:
                await connection.execute(
                    "INSERT INTO offer_revision (offer, data) VALUES ($1, $2::jsonb)", offer_id, payload
                )
            except UniqueViolationError:
                raise Conflict("This offer already has an edit under review.", code="revision_pending") from None
        else:
            raise Conflict("This offer can no longer be edited.", code="not_editable", status=offer["status"])
        return await _read(connection, await _fetch_offer(connection, offer_id))


async def delete_offer(principal: Principal, offer_id: int) -> None:
    """Remove a draft (members never saw it; its locations and slots go with it)."""
    guards.require_owner(principal)
    async with engine().transaction() as transaction:
        offer = await _fetch_offer(transaction.connection, offer_id, lock=True)
        _own(principal, offer)
        if offer["status"] != "draft":
            raise Conflict("Only a draft can be deleted; pause a published offer instead.", code="not_a_draft")
        await transaction.connection.execute("DELETE FROM offer WHERE id = $1", offer_id)
    await delete_picture_files(offer["cover_image"])


async def submit_offer(principal: Principal, offer_id: int) -> OfferRead:
    guards.require_owner(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        offer = await _fetch_offer(connection, offer_id, lock=True)
        _own(principal, offer)
        if offer["provider_status"] != "active":
            raise Conflict("Only an active provider may submit listings.", code="provider_not_active")
        if offer["status"] != "draft":
            raise Conflict("Only a draft can be submitted for review.", code="not_a_draft")
        if offer["valid_to"] <= datetime.now(UTC):
            raise Invalid("The last day has passed; move the dates before submitting.", field="valid_to")
        if offer["kind"] == "slot" and not await connection.fetchval(
            "SELECT 1 FROM offer_slot WHERE offer = $1 LIMIT 1", offer_id
        ):
            raise Invalid("A booking needs at least one time slot.", field="slots")
        await connection.execute(
            "UPDATE offer SET status = 'submitted', review_note = NULL, updated_at = now() WHERE id = $1", offer_id
        )
        return await _read(connection, await _fetch_offer(connection, offer_id))


async def _flip(principal: Principal, offer_id: int, source: str, target: str) -> OfferRead:
    guards.require_owner(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        offer = await _fetch_offer(connection, offer_id)
        _own(principal, offer)
        extra = " AND valid_to > now()" if target == "published" else ""
        changed = await connection.fetchval(
            f"UPDATE offer SET status = $2, updated_at = now() WHERE id = $1 AND status = $3{extra} RETURNING id",
            offer_id,
            target,
            source,
        )
        if changed is None:
            if target == "paused":
                raise Conflict("Only a published offer can be paused.", code=f"not_{source}")
            raise Conflict("Only a paused offer whose last day has not passed can be resumed.", code=f"not_{source}")
        await outbox.publish(topics.OfferChanged(offer_id=offer_id))
        return await _read(connection, await _fetch_offer(connection, offer_id))


async def pause_offer(principal: Principal, offer_id: int) -> OfferRead:
    return await _flip(principal, offer_id, "published", "paused")


async def resume_offer(principal: Principal, offer_id: int) -> OfferRead:
    return await _flip(principal, offer_id, "paused", "published")


# Images ------------------------------------------------------------------------------------

MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}
# Checked from the file's header, before a pixel is decoded: a 5 MB PNG can claim ~180
# megapixels, and decoding it would take gigabytes of memory.
MAX_IMAGE_PIXELS = 30_000_000
MAX_IMAGE_SIDE = 10_000
# What one provider may keep on disk (the pictures of its offers): an active provider, and
# one not yet approved (anyone may apply, so its drafts get a few pictures only).
PICTURE_QUOTA = {"active": (100, 50 * 1024 * 1024)}
PICTURE_QUOTA_UNAPPROVED = (5, 5 * 1024 * 1024)


def _keep_image(content: bytes, folder: str) -> tuple[str, int]:
    """Check the bytes really are a JPEG, PNG or WebP picture, then keep a ≤1200px-wide
    copy and a 400px thumbnail in the media store (marketplace/core/media.py) under
    `<folder>/` with an unguessable name: that name, and the bytes both copies take.
    Blocking (decoding, resizing, the store's calls): `_store_image` runs it off the loop."""
    from PIL import Image, UnidentifiedImageError

    if not content:
        raise Invalid("The picture file is empty.", field="image")
    if len(content) > MAX_IMAGE_BYTES:
        raise Invalid("Choose a picture of at most 5 MB.", field="image")
    try:
        with Image.open(io.BytesIO(content)) as probe:  # reads the header only
            if probe.format not in IMAGE_FORMATS:
                raise Invalid("Choose a JPEG, PNG or WebP picture.", field="image")
            width, height = probe.size
            if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_IMAGE_SIDE:
                raise Invalid(
                    "Choose a picture of at most %(megapixels)s megapixels.",
                    field="image",
                    params={"megapixels": MAX_IMAGE_PIXELS // 1_000_000},
                )
            probe.verify()
        picture: Image.Image = Image.open(io.BytesIO(content))
        picture.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Invalid("Choose a JPEG, PNG or WebP picture.", field="image") from None
    if picture.mode not in ("RGB", "L"):
        background = Image.new("RGB", picture.size, "white")
        rgba = picture.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        picture = background
    name = f"{folder}/{secrets.token_urlsafe(18)}.jpg"
    copies = {}
    for width, target in ((1200, name), (400, thumbnail_name(name))):
        copy = picture.copy()
        if copy.width > width:
            copy = copy.resize((width, max(1, round(copy.height * width / copy.width))), Image.Resampling.LANCZOS)
        encoded = io.BytesIO()
        copy.convert("RGB").save(encoded, "JPEG", quality=85, optimize=True)
        copies[target] = encoded.getvalue()
    store = media.store()
    try:
        for target, encoded_copy in copies.items():
            store.save(target, encoded_copy)
    except media.Unreachable:
        _forget_quietly(store, list(copies))  # no half of a picture stays behind
        raise
    return name, sum(map(len, copies.values()))


def _forget_quietly(store: media.MediaStore, names: list[str]) -> None:
    """Delete what can be deleted; a store that is down keeps an orphan file, which no row
    names (an orphan costs space, a row naming a missing file shows a broken picture)."""
    for name in names:
        try:
            store.delete(name)
        except media.Unreachable as error:
            log.warning("media_orphan_left", name=name, error=str(error))


async def _store_image(content: bytes, folder: str = "offers") -> tuple[str, int]:
    """`_keep_image` in a worker thread; 503 `media_unavailable` at the field `image` while
    the store cannot be reached."""
    return await media.off_loop(_keep_image, content, folder, field="image")


async def store_picture(content: bytes, folder: str) -> str:
    """A picture of another domain (a complaint's photo), checked and resized as offer
    pictures are; its name under /media, and `thumbnail_of(name)` for the 400px copy."""
    name, _ = await _store_image(content, folder)
    return name


async def set_cover_image(principal: Principal, offer_id: int, content: bytes) -> OfferRead:
    """The cover picture of a draft (a live offer's picture changes only through review).
    The files are kept first and the row names them after, so no row ever names a picture
    that was never stored."""
    await _measure_pictures(guards.require_owner(principal))
    async with engine().transaction() as transaction:
        offer = await _fetch_offer(transaction.connection, offer_id)
        _own(principal, offer)
        if offer["status"] != "draft":
            raise Conflict("Only a draft's picture can be changed.", code="not_a_draft")
        await _check_picture_quota(transaction.connection, offer, len(content))
    name, size = await _store_image(content)
    try:
        async with engine().transaction() as transaction:
            connection = transaction.connection
            old = await connection.fetchval("SELECT cover_image FROM offer WHERE id = $1 FOR UPDATE", offer_id)
            changed = await connection.fetchval(
                "UPDATE offer SET cover_image = $2, cover_image_bytes = $3, updated_at = now() "
                "WHERE id = $1 AND status = 'draft' RETURNING id",
                offer_id,
                name,
                size,
            )
            if changed is None:
                raise Conflict("Only a draft's picture can be changed.", code="not_a_draft")
            read = await _read(connection, await _fetch_offer(connection, offer_id))
    except BaseException:
        await _remove_files(name)
        raise
    await delete_picture_files(old)
    return read


def _picture_files(name: str | None) -> list[str]:
    """An offer picture's name and its thumbnail's in the media store."""
    if not name or not name.startswith("offers/") or "/" in name[len("offers/") :] or ".." in name:
        return []
    return [name, thumbnail_name(name)]


async def _remove_files(name: str | None) -> None:
    """Delete a picture's files, off the loop; a store that is down leaves them (logged)."""
    if files := _picture_files(name):
        await anyio.to_thread.run_sync(_forget_quietly, media.store(), files)


async def delete_picture_files(name: str | None) -> None:
    """Remove a picture and its thumbnail from the store (a replaced cover, a deleted offer),
    unless another offer still shows it (the demo's pictures are shared). Called after the
    change is committed, so a store that is down leaves the files rather than fail it."""
    if not name:
        return
    async with db.connection() as connection:
        shown = await connection.fetchval("SELECT 1 FROM offer WHERE cover_image = $1 LIMIT 1", name)
    if not shown:
        await _remove_files(name)


def _picture_bytes(name: str | None) -> int:
    """What a picture's two copies take in the store (blocking: one HEAD each on S3)."""
    store = media.store()
    return sum(store.size(file) or 0 for file in _picture_files(name))


async def _measure_pictures(provider_id: int) -> None:
    """Keep the size of the provider's pictures kept before `cover_image_bytes` was (or by the
    seed): measured in the store once (off the loop), so the quota check needs no store."""
    async with db.connection() as connection:
        unmeasured = await connection.fetch(
            "SELECT id, cover_image FROM offer WHERE provider = $1 AND cover_image IS NOT NULL "
            "AND cover_image_bytes IS NULL",
            provider_id,
        )
    if not unmeasured:
        return
    sizes = await media.off_loop(lambda: [_picture_bytes(row["cover_image"]) for row in unmeasured], field="image")
    async with db.connection() as connection:
        await connection.executemany(
            "UPDATE offer SET cover_image_bytes = $2 WHERE id = $1 AND cover_image = $3",
            [(row["id"], size, row["cover_image"]) for row, size in zip(unmeasured, sizes, strict=True)],
        )


async def _check_picture_quota(connection, offer: dict, incoming: int) -> None:
    """At most PICTURE_QUOTA pictures and bytes per provider (the one being replaced aside).
    The bytes are the offers' `cover_image_bytes`, kept at each upload (`_measure_pictures`
    before this for older ones), so the check is one query and no call to the store."""
    count_limit, byte_limit = PICTURE_QUOTA.get(offer["provider_status"], PICTURE_QUOTA_UNAPPROVED)
    kept = await connection.fetchrow(
        "SELECT count(*) AS pictures, coalesce(sum(cover_image_bytes), 0) AS bytes FROM offer "
        "WHERE provider = $1 AND cover_image IS NOT NULL AND id <> $2",
        offer["provider"],
        offer["id"],
    )
    if kept["pictures"] >= count_limit:
        raise Conflict(
            "Your offers already have %(count)s pictures, the most allowed; remove one first.",
            code="picture_quota",
            field="image",
            params={"count": count_limit},
        )
    if kept["bytes"] + min(incoming, MAX_IMAGE_BYTES) > byte_limit:
        raise Conflict(
            "Your offers' pictures already take the space allowed; remove one first.",
            code="picture_quota",
            field="image",
        )


# Review --------------------------------------------------------------------------------------

# What waits for review in the scope of node path $1: new offers submitted, and edits of live
# offers (a pending revision, with its own titles).
_REVIEW_QUEUE = (
    "SELECT o.id AS offer_id, NULL::bigint AS revision_id, o.provider AS provider_id,"
    " p.name AS provider_name, o.title_zh, o.title_en, o.kind, o.updated_at AS submitted_at"
    " FROM offer o JOIN provider p ON p.id = o.provider JOIN union_node n ON n.id = p.node"
    " WHERE o.status = 'submitted' AND n.path LIKE $1 || '%'"
    " UNION ALL"
    " SELECT o.id, r.id, o.provider, p.name, r.data->>'title_zh', r.data->>'title_en', o.kind, r.submitted_at"
    " FROM offer_revision r JOIN offer o ON o.id = r.offer JOIN provider p ON p.id = o.provider"
    " JOIN union_node n ON n.id = p.node"
    " WHERE r.status = 'submitted' AND n.path LIKE $1 || '%'"
)


async def review_queue(principal: Principal) -> list[ReviewItem]:
    """Submitted offers and pending revisions of providers inside the operator's scope, oldest first."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            f"SELECT * FROM ({_REVIEW_QUEUE}) queue ORDER BY submitted_at, offer_id",
            principal.node_path,
        )
    return [ReviewItem(**dict(row)) for row in rows]


async def review_page(
    principal: Principal,
    *,
    q: str = "",
    kind: str = "",
    change: str = "",
    newest: bool = False,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[ReviewItem], int]:
    """One page of the review queue, searched by offer title or provider name, filtered by the
    offer's kind and by new offer / edit of a live one; with the queue's total."""
    guards.require_operator(principal)
    pattern = "%" + search_text(q) + "%" if q.strip() else None
    order = "DESC" if newest else "ASC"
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            f"SELECT *, count(*) OVER () AS total FROM ({_REVIEW_QUEUE}) queue"
            " WHERE ($2::text IS NULL OR title_zh ILIKE $2 OR coalesce(title_en, '') ILIKE $2 OR provider_name ILIKE $2)"
            " AND ($3 = '' OR kind = $3)"
            " AND ($4 = '' OR ($4 = 'new' AND revision_id IS NULL) OR ($4 = 'edit' AND revision_id IS NOT NULL))"
            f" ORDER BY submitted_at {order}, offer_id LIMIT $5 OFFSET $6",
            principal.node_path,
            pattern,
            kind,
            change,
            page_size,
            (page - 1) * page_size,
        )
    total = rows[0]["total"] if rows else 0
    return [ReviewItem(**{key: row[key] for key in ReviewItem.__struct_fields__}) for row in rows], total


def _as_input(offer: OfferRead) -> dict:
    """The live offer in the shape of OfferInput, to compare a revision against."""
    live = msgspec.to_builtins(offer)
    live["slots"] = [{key: slot[key] for key in ("starts_at", "ends_at", "capacity")} for slot in live["slots"]]
    return {name: live[name] for name in OfferInput.__struct_fields__}


async def review_detail(principal: Principal, offer_id: int) -> ReviewDetail:
    async with engine().transaction() as transaction:
        connection = transaction.connection
        offer = await _fetch_offer(connection, offer_id)
        await require_in_scope(principal, offer["provider_node"], _no_offer())
        read = await _read(connection, offer)
        changes: list[Change] = []
        if read.pending_revision_id:
            proposed = json.loads(
                await connection.fetchval("SELECT data FROM offer_revision WHERE id = $1", read.pending_revision_id)
            )
            proposed = msgspec.to_builtins(msgspec.convert(proposed, OfferInput))
            live = _as_input(read)
            changes = [
                Change(field=name, live=live[name], proposed=proposed[name])
                for name in OfferInput.__struct_fields__
                if live[name] != proposed[name]
            ]
        return ReviewDetail(offer=read, revision_id=read.pending_revision_id, changes=changes)


async def approve(principal: Principal, offer_id: int) -> OfferRead:
    """Publish a submitted offer, or apply its pending revision to the live offer."""
    async with engine().transaction() as transaction:
        connection = transaction.connection
        offer = await _fetch_offer(connection, offer_id, lock=True)
        await require_in_scope(principal, offer["provider_node"], _no_offer())
        if offer["provider_status"] != "active":
            raise Conflict("The provider is not active.", code="provider_not_active")
        revision = await connection.fetchrow(
            "SELECT id, data FROM offer_revision WHERE offer = $1 AND status = 'submitted' FOR UPDATE", offer_id
        )
        if offer["status"] == "submitted":
            await _check_listing(connection, offer)
            await connection.execute(
                "UPDATE offer SET status = 'published', published_at = now(), updated_at = now(), "
                "review_note = NULL WHERE id = $1",
                offer_id,
            )
        elif revision is not None:
            data = msgspec.convert(json.loads(revision["data"]), OfferInput)
            await _validate(connection, offer["provider"], offer["provider_node"], data)
            await _check_listing(connection, {**offer, **msgspec.to_builtins(data)})
            assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(_COLUMNS, start=1))
            n = len(_COLUMNS)
            # Stock already claimed stays claimed: what is left moves by the change of the total.
            await connection.execute(
                f"UPDATE offer SET {assignments}, category = ${n + 1}, node_scope = ${n + 2}, "
                f"stock_left = GREATEST(0, stock_left + ${n + 3} - stock_total), stock_total = ${n + 3}, "
                f"updated_at = now() WHERE id = ${n + 4}",
                *_values(data),
                data.stock_total,
                offer_id,
            )
            await _write_children(connection, offer_id, data)
            await connection.execute(
                "UPDATE offer_revision SET status = 'approved', reviewed_at = now(), reviewer = $2 WHERE id = $1",
                revision["id"],
                principal.id,
            )
        else:
            raise Conflict("Nothing of this offer is waiting for review.", code="nothing_to_review")
        await outbox.publish(topics.OfferChanged(offer_id=offer_id))
        return await _read(connection, await _fetch_offer(connection, offer_id))


async def reject(principal: Principal, offer_id: int, reason: str) -> OfferRead:
    """Send a submitted offer back to draft, or turn down its pending revision, with the reason."""
    reason = reason.strip()
    if not reason:
        raise Invalid("Give a reason.", field="reason")
    if len(reason) > 500:
        raise Invalid("Keep the reason to 500 characters.", field="reason")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        offer = await _fetch_offer(connection, offer_id, lock=True)
        await require_in_scope(principal, offer["provider_node"], _no_offer())
        if offer["status"] == "submitted":
            await connection.execute(
                "UPDATE offer SET status = 'draft', review_note = $2, updated_at = now() WHERE id = $1",
                offer_id,
                reason,
            )
        else:
            turned_down = await connection.fetchval(
                "UPDATE offer_revision SET status = 'rejected', note = $2, reviewed_at = now(), reviewer = $3 "
                "WHERE offer = $1 AND status = 'submitted' RETURNING id",
                offer_id,
                reason,
                principal.id,
            )
            if turned_down is None:
                raise Conflict("Nothing of this offer is waiting for review.", code="nothing_to_review")
            await connection.execute("UPDATE offer SET review_note = $2 WHERE id = $1", offer_id, reason)
        return await _read(connection, await _fetch_offer(connection, offer_id))


# Stock, for claims (run in the claiming transaction) ---------------------------------------------

# An offer this member may claim now: published, in its window, its provider active, scoped
# to the member's node or an ancestor, and open to everyone or to one of the member's groups.
_CLAIMABLE_SQL = """
SELECT o.id, o.kind, o.provider, o.title_zh, o.title_en, o.member_price_fen, o.subsidy_fen, o.points_price,
       o.per_member_limit, o.limit_period, o.valid_to, o.stock_left, o.node_scope, o.groups, o.by_draw,
       o.package_sessions, o.package_months, o.terms_zh, o.terms_en
FROM offer o
JOIN provider p ON p.id = o.provider
WHERE o.id = $1 AND o.status = 'published' AND p.status = 'active'
  AND o.valid_from <= now() AND o.valid_to > now()
  AND o.node_scope = ANY($2::int[])
  AND (cardinality(o.groups) = 0 OR o.groups && $3::varchar[])
"""


# Offers found sold out, remembered by each process for a second: in a flash sale nearly
# every attempt comes after the last unit, and each would read the offer row again to be
# told so. offer id -> (monotonic deadline, node_scope, groups): who may claim it, so that
# a member it is not open to still reads "not found" and not "sold out". A cancelled
# claim's stock shows at once in the process that returned it (return_stock forgets the
# offer) and within the second elsewhere; take_stock stays the authority on stock.
SOLD_OUT_MEMO_SECONDS = 1.0
_sold_out: dict[int, tuple[float, int, tuple[str, ...]]] = {}


def known_sold_out(offer_id: int, node_ids: list[int], groups: tuple[str, ...] | list[str]) -> bool | None:
    """What `claimable_offer` would tell this member about an offer found sold out in the
    last second: True, open to them and sold out; False, not open to them; None, not known."""
    memo = _sold_out.get(offer_id)
    if memo is None:
        return None
    deadline, node_scope, offer_groups = memo
    if time.monotonic() >= deadline:
        _sold_out.pop(offer_id, None)
        return None
    # The SQL's `node_scope = ANY($2)` and `cardinality(groups) = 0 OR groups && $3`.
    return node_scope in node_ids and (not offer_groups or not set(offer_groups).isdisjoint(groups))


def forget_sold_out(offer_id: int | None = None) -> None:
    """Stock came back (or, with no offer, a test starts on an empty database)."""
    if offer_id is None:
        _sold_out.clear()
    else:
        _sold_out.pop(offer_id, None)


async def claimable_offer(connection, offer_id: int, node_ids: list[int], groups: list[str]) -> dict | None:
    """The offer if this member (their node and its ancestors, their groups) may claim it now."""
    row = await connection.fetchrow(_CLAIMABLE_SQL, offer_id, node_ids, groups)
    if row is None:
        return None
    if row["stock_left"] <= 0:
        _sold_out[offer_id] = (time.monotonic() + SOLD_OUT_MEMO_SECONDS, row["node_scope"], tuple(row["groups"]))
    return dict(row)


async def give_by_draw(connection, offer_id: int) -> None:
    """From now on the offer's places go by draw (marketplace/draws): the normal claim
    refuses it. In the caller's transaction."""
    await connection.execute("UPDATE offer SET by_draw = true WHERE id = $1", offer_id)


async def take_stock(connection, offer_id: int) -> int | None:
    """Take one unit of stock in the caller's transaction; returns what is left, None when
    none was left (or the offer stopped being claimable meanwhile).

    One conditional UPDATE: the row lock serialises concurrent claims, and the check
    and the decrement cannot be separated, so stock never goes below zero. Callers run
    it last in their transaction, to hold the hot row's lock as briefly as possible.
    When the last unit goes, search learns through `offer.changed`."""
    left = await connection.fetchval(
        "UPDATE offer SET stock_left = stock_left - 1 "
        "WHERE id = $1 AND stock_left > 0 AND status = 'published' AND valid_to > now() "
        "AND EXISTS (SELECT 1 FROM provider p WHERE p.id = offer.provider AND p.status = 'active') "
        "RETURNING stock_left",
        offer_id,
    )
    if left == 0:
        await outbox.publish(topics.OfferChanged(offer_id=offer_id))
    return left


async def return_stock(connection, offer_id: int) -> None:
    """Give one unit back (a cancelled claim), never above the total; search learns when the
    offer had run out."""
    left = await connection.fetchval(
        "UPDATE offer SET stock_left = stock_left + 1 WHERE id = $1 AND stock_left < stock_total RETURNING stock_left",
        offer_id,
    )
    if left == 1:
        await outbox.publish(topics.OfferChanged(offer_id=offer_id))
    if left is not None:
        forget_sold_out(offer_id)


async def book_slot(connection, offer_id: int, slot_id: int):
    """Take one place of a slot in the caller's transaction; the slot's end, or None when
    it is full, over or not this offer's. One conditional UPDATE, like take_stock."""
    return await connection.fetchval(
        "UPDATE offer_slot SET booked = booked + 1 "
        "WHERE id = $1 AND offer = $2 AND booked < capacity AND starts_at > now() RETURNING ends_at",
        slot_id,
        offer_id,
    )


async def release_slot(connection, slot_id: int) -> None:
    await connection.execute("UPDATE offer_slot SET booked = booked - 1 WHERE id = $1 AND booked > 0", slot_id)


async def open_slots(offer_id: int) -> list[dict]:
    """The slots of a booking offer that can still be booked, soonest first."""
    return await db.fetch(
        "SELECT id, starts_at, ends_at, capacity, booked FROM offer_slot "
        "WHERE offer = $1 AND starts_at > now() AND booked < capacity ORDER BY starts_at LIMIT 100",
        offer_id,
    )


# Expiry ----------------------------------------------------------------------------------------


async def expire_offers() -> list[int]:
    """Published or paused offers whose window has ended become expired; returns their ids."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "UPDATE offer SET status = 'expired', updated_at = now() "
            "WHERE status IN ('published', 'paused') AND valid_to <= now() RETURNING id"
        )
        for row in rows:
            await outbox.publish(topics.OfferChanged(offer_id=row["id"]))
    return sorted(row["id"] for row in rows)


# Choices for the listing form --------------------------------------------------------------------


async def list_categories() -> list[dict]:
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch("SELECT id, code, name_zh, name_en FROM category ORDER BY id")
    return [dict(row) for row in rows]


async def scope_choices(provider_id: int, limit: int = 60) -> list[dict]:
    """The provider's federation node and the nodes inside it, the scopes an offer may have."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT n.id, n.name_zh, n.name_en, n.depth FROM provider p JOIN union_node home ON home.id = p.node "
            "JOIN union_node n ON n.path LIKE home.path || '%' WHERE p.id = $1 ORDER BY n.path LIMIT $2",
            provider_id,
            limit,
        )
    return [dict(row) for row in rows]


async def review_count(principal: Principal) -> int:
    """How many offers and revisions wait for review in the operator's scope (the to-do list)."""
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT (SELECT count(*) FROM offer o JOIN provider p ON p.id = o.provider"
            "  JOIN union_node n ON n.id = p.node WHERE o.status = 'submitted' AND n.path LIKE $1 || '%')"
            " + (SELECT count(*) FROM offer_revision r JOIN offer o ON o.id = r.offer"
            "  JOIN provider p ON p.id = o.provider JOIN union_node n ON n.id = p.node"
            "  WHERE r.status = 'submitted' AND n.path LIKE $1 || '%')",
            principal.node_path or "-",
        )


async def offers_to_pick(
    principal: Principal, q: str = "", ids: list[int] | None = None, limit: int = 20
) -> list[dict]:
    """Offers an operator may pick for a campaign, found by title or provider name: published
    or paused offers that members in the operator's scope can see (scoped to a node above or
    inside it). With `ids`: those offers, to show what was picked."""
    guards.require_operator(principal)
    text = search_text(q)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT o.id, o.title_zh, o.title_en, o.kind, o.status, o.member_price_fen, o.points_price,"
            " p.name AS provider_name FROM offer o JOIN provider p ON p.id = o.provider"
            " JOIN union_node s ON s.id = o.node_scope"
            " WHERE o.status IN ('published', 'paused')"
            " AND (s.path LIKE $1 || '%' OR $1 LIKE s.path || '%')"
            " AND ($2::bigint[] IS NULL OR o.id = ANY($2::bigint[]))"
            " AND ($3 = '' OR o.title_zh ILIKE '%' || $3 || '%' OR coalesce(o.title_en, '') ILIKE '%' || $3 || '%'"
            "  OR p.name ILIKE '%' || $3 || '%')"
            " ORDER BY o.title_zh, o.id LIMIT $4",
            principal.node_path,
            ids,
            text,
            limit,
        )
    return [dict(row) for row in rows]
