"""Provider organisations, their locations and users; admission and status changes.

Every status change goes through `transition`, which locks the provider row, checks the
expected current status, records the change in `provider_status_change` and publishes
`provider.changed` in the same transaction (search hides a suspended provider's offers).
"""

import json
import re
from datetime import date

import structlog
from asyncpg.exceptions import ForeignKeyViolationError, UniqueViolationError

from marketplace.core import db, pii, ratelimit
from marketplace.core.db import engine, search_text
from marketplace.core.errors import Conflict, Invalid, NotFound, TooManyRequests
from marketplace.core.federation import scope, services as federation
from marketplace.core.identity import credentials, guards
from marketplace.core.identity.password_rules import check_staff_password
from marketplace.core.identity.passwords import hash_password
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics
from providers.credit_codes import is_valid_credit_code
from providers.schemas import (
    AccountInput,
    ApplicationCreate,
    LocationInput,
    LocationRead,
    ProviderDetail,
    ProviderDetailsInput,
    ProviderPage,
    ProviderSummary,
    StatusChangeRead,
    UserRead,
)
from providers.tables import Location, Provider, ProviderUser

log = structlog.get_logger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Mainland China's bounding box (Mohe to Hainan's southern tip, Pamirs to the Wusu river).
LATITUDE = (18.0, 53.6)
LONGITUDE = (73.5, 135.1)
SERVING_LEVELS = ("city", "district")
PHONE_PATTERN = re.compile(r"^(1[3-9]\d{9}|0\d{9,11})$")  # a mobile, or a landline with its area code
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# action → (statuses it may start from, status it leads to, whether a reason is required)
DECISIONS = {
    "approve": (("applied",), "active", False),
    "reject": (("applied",), "rejected", True),
    "request_changes": (("applied",), "changes_requested", True),
    "suspend": (("active",), "suspended", True),
    "reinstate": (("suspended",), "active", False),
    # The business closed (关闭/停业): for good, from any status it traded in. Its prepaid
    # packages' unused balances go back to their members (marketplace/prepaid hears ProviderClosed).
    "close": (("active", "suspended", "delisted"), "closed", True),
}


# Reads used by identity and search -------------------------------------------------------


async def find_user_credentials(username: str) -> tuple[int, str] | None:
    row = (
        await ProviderUser.select(ProviderUser.id, ProviderUser.password_hash)
        .where((ProviderUser.username == username) & ProviderUser.active.eq(True))
        .first()
    )
    return (row["id"], row["password_hash"]) if row else None


async def _staff_principal(user_id: int) -> Principal | None:
    user = await get_user(user_id)
    # A delisted provider's users still sign in: to read why, and to appeal.
    if user is None or user["provider_status"] == "rejected":
        return None
    node = await federation.get_node(user["node_id"])
    return Principal(
        kind="provider",
        id=user["id"],
        display_name=user["display_name"],
        node_id=node.id,
        node_path=node.path,
        provider_id=user["provider_id"],
        role=user["role"],
        pending="password" if user.get("must_change_password") else None,
    )


async def get_user(user_id: int) -> dict | None:
    """The user with their provider's id, name, status and federation node."""
    rows = await db.fetch(
        "SELECT u.id, u.display_name, u.role, u.provider AS provider_id, p.name AS provider_name, "
        "p.status AS provider_status, p.node AS node_id, u.must_change_password "
        "FROM provider_user u JOIN provider p ON p.id = u.provider WHERE u.id = $1 AND u.active",
        user_id,
    )
    return rows[0] if rows else None


async def get_provider(provider_id: int) -> dict | None:
    """The provider row; `contact_phone` is the masked phone (the clear one is never shown)."""
    row = (
        await Provider.select(*[c for c in Provider._meta.columns if c._meta.name != "contact_phone_cipher"])
        .where(Provider.id == provider_id)
        .first()
    )
    if row is not None:
        row["contact_phone"] = row["contact_phone_masked"]
    return row


async def node_path(provider_id: int) -> str | None:
    """The federation path of the provider's node, for scope checks; None when there is no
    such provider."""
    async with db.connection() as connection:
        return await connection.fetchval(
            "SELECT n.path FROM provider p JOIN union_node n ON n.id = p.node WHERE p.id = $1", provider_id
        )


async def list_locations(provider_id: int) -> list[dict]:
    return await Location.select().where(Location.provider == provider_id).order_by(Location.id)


async def provider_for_index(provider_id: int) -> dict | None:
    """What search shows of a provider: name, kind, status, node and its locations.

    {"id", "name", "kind", "status", "node_id", "locations": [{"id", "name", "address",
    "district", "latitude", "longitude", "opening_hours", "phone"}]}; None if it does not exist.
    """
    return (await providers_for_index([provider_id])).get(provider_id)


async def providers_for_index(provider_ids: list[int]) -> dict[int, dict]:
    """`provider_for_index` for many providers in two queries (a reindex reads thousands)."""
    rows = await db.fetch(
        "SELECT id, name, kind, status, node AS node_id FROM provider WHERE id = ANY($1::int[])", list(provider_ids)
    )
    found = {row["id"]: {**row, "locations": []} for row in rows}
    locations = await db.fetch(
        "SELECT id, provider, name, address, district, latitude, longitude, opening_hours, phone FROM location "
        "WHERE provider = ANY($1::int[]) ORDER BY id",
        list(found),
    )
    for location in locations:
        found[location.pop("provider")]["locations"].append(location)
    return found


async def opening_schedules() -> list:
    """Every distinct week of opening hours among the locations (search's "open now")."""
    return [row["opening_hours"] for row in await db.fetch("SELECT DISTINCT opening_hours FROM location")]


# Validation ---------------------------------------------------------------------------------


def normalise_credit_code(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 18:
        raise Invalid("A unified social credit code has 18 characters.", field="credit_code")
    if not is_valid_credit_code(code):
        raise Invalid(
            "This is not a valid unified social credit code; check each character against the business licence.",
            code="invalid_credit_code",
            field="credit_code",
        )
    return code


def _check_phone(phone: str, field: str) -> str:
    phone = phone.strip().replace("-", "").replace(" ", "")
    if not PHONE_PATTERN.match(phone):
        raise Invalid("Give a mobile number of 11 digits or a landline with its area code.", field=field)
    return phone


def _check_text(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid("Fill in this field.", field=field)
    return value


def check_location(location: LocationInput, prefix: str = "") -> dict:
    """The location as stored, or Invalid naming the bad field (prefix "locations[0]." in an application)."""
    if not LATITUDE[0] <= location.latitude <= LATITUDE[1]:
        raise Invalid(
            "The latitude of a place in mainland China lies between %(low)s and %(high)s.",
            field=prefix + "latitude",
            params={"low": LATITUDE[0], "high": LATITUDE[1]},
        )
    if not LONGITUDE[0] <= location.longitude <= LONGITUDE[1]:
        raise Invalid(
            "The longitude of a place in mainland China lies between %(low)s and %(high)s.",
            field=prefix + "longitude",
            params={"low": LONGITUDE[0], "high": LONGITUDE[1]},
        )
    hours = {}
    for day, times in location.opening_hours.items():
        field = f"{prefix}opening_hours.{day}"
        if day not in WEEKDAYS:
            raise Invalid("Give opening hours for the days of the week only.", field=field)
        opens, closes = times
        if not (TIME_PATTERN.match(opens) and TIME_PATTERN.match(closes)):
            raise Invalid("Give opening hours as two times, such as 09:00 and 21:00.", field=field)
        if opens >= closes:
            raise Invalid("A location must open before it closes.", field=field)
        hours[day] = [opens, closes]
    return {
        "name": _check_text(location.name, prefix + "name"),
        "address": _check_text(location.address, prefix + "address"),
        "district": _check_text(location.district, prefix + "district"),
        "latitude": location.latitude,
        "longitude": location.longitude,
        "opening_hours": {day: hours[day] for day in WEEKDAYS if day in hours},
        # The shop's public number, shown to members as a tel: link; optional.
        "phone": _shop_phone(location.phone, prefix + "phone"),
    }


def _shop_phone(phone: str, field: str) -> str:
    phone = phone.strip().replace("-", "").replace(" ", "")
    if phone and not PHONE_PATTERN.match(phone):
        raise Invalid(
            "Give the shop phone as a mobile number of 11 digits or a landline with its area code, or leave it empty.",
            field=field,
        )
    return phone


async def _check_account(account: AccountInput, prefix: str, fallback_name: str) -> tuple[str, str, str]:
    username = account.username.strip()
    if not USERNAME_PATTERN.match(username):
        raise Invalid("A username has 3 to 64 letters, digits, dots, dashes or underscores.", field=prefix + "username")
    check_staff_password(account.password, username, field=prefix + "password")
    display_name = account.display_name.strip() or fallback_name
    return username, await hash_password(account.password), display_name


async def _check_node(node_id: int):
    try:
        node = await federation.get_node(node_id)
    except NotFound as error:
        raise Invalid("No such union.", code="node_not_found", field="node_id") from error
    if node.level not in SERVING_LEVELS:
        raise Invalid("A provider serves the subtree of a city or district federation.", field="node_id")
    return node


# Admission ------------------------------------------------------------------------------------

# Applications from one client address: at most this many an hour (anyone may apply, so
# without it one script could fill the review queue and the pictures' disk).
APPLICATIONS_PER_ADDRESS = 5
APPLICATION_WINDOW_SECONDS = 3600


def _applications_key(address: str | None) -> str:
    return f"provider:applications:{address or 'unknown'}"


async def _check_applications(address: str | None) -> None:
    """TooManyRequests when `address` already applied the hourly limit's number of times
    (a refused form, fixed and sent again, does not count)."""
    key = _applications_key(address)
    if await ratelimit.count(key) >= APPLICATIONS_PER_ADDRESS:
        ttl = await ratelimit.seconds_left(key)
        raise TooManyRequests(
            "Too many applications from this network; try again in %(minutes)s minutes.",
            code="applications_throttled",
            retry_after=ttl,
            params={"minutes": max(1, (ttl + 59) // 60)},
        )


async def _count_application(address: str | None) -> None:
    await ratelimit.hit(_applications_key(address), window_seconds=APPLICATION_WINDOW_SECONDS)


async def apply(data: ApplicationCreate, address: str | None = None, licence_image: str | None = None) -> int:
    """A new provider in status `applied`, with its locations and owner account; all or nothing.
    Throttled per client address (APPLICATIONS_PER_ADDRESS an hour). `licence_image`: the
    stored business licence picture (its name under /media), if sent."""
    await _check_applications(address)
    name = _check_text(data.name, "name")
    code = normalise_credit_code(data.credit_code)
    contact_name = _check_text(data.contact_name, "contact_name")
    phone = _check_phone(data.contact_phone, "contact_phone")
    await _check_node(data.node_id)
    locations = [check_location(location, f"locations[{i}].") for i, location in enumerate(data.locations)]
    username, password_hash, display_name = await _check_account(data.owner, "owner.", contact_name)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        provider_id = await connection.fetchval(
            "INSERT INTO provider (name, credit_code, kind, node, contact_name, contact_phone_cipher, "
            "contact_phone_masked, status, licence_image) VALUES ($1, $2, $3, $4, $5, $6, $7, 'applied', $8) "
            "ON CONFLICT (credit_code) DO NOTHING RETURNING id",
            name,
            code,
            data.kind,
            data.node_id,
            contact_name,
            pii.encrypt(phone),
            pii.mask_phone(phone),
            licence_image,
        )
        if provider_id is None:
            raise Conflict(
                "A provider with this credit code has already applied.", code="provider_exists", field="credit_code"
            )
        for location in locations:
            await _insert_location(connection, provider_id, location)
        try:
            async with connection.transaction():
                await connection.execute(
                    "INSERT INTO provider_user (provider, username, display_name, role, password_hash) "
                    "VALUES ($1, $2, $3, 'owner', $4)",
                    provider_id,
                    username,
                    display_name,
                    password_hash,
                )
        except UniqueViolationError as error:
            raise Conflict("This username is taken.", code="username_taken", field="owner.username") from error
        await _record(connection, provider_id, None, "applied", "provider", None, "")
    await _count_application(address)
    return provider_id


async def _insert_location(connection, provider_id: int, location: dict) -> int:
    return await connection.fetchval(
        "INSERT INTO location (provider, name, address, district, latitude, longitude, opening_hours, phone) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) RETURNING id",
        provider_id,
        *_location_values(location),
    )


def _location_values(location: dict) -> tuple:
    """A checked location's columns in the order both the insert and the update write them."""
    fields = ("name", "address", "district", "latitude", "longitude")
    return (*(location[field] for field in fields), json.dumps(location["opening_hours"]), location["phone"])


async def _record(
    connection,
    provider_id: int,
    from_status: str | None,
    to_status: str,
    actor_kind: str,
    actor_id: int | None,
    reason: str,
) -> None:
    await connection.execute(
        "INSERT INTO provider_status_change (provider, from_status, to_status, actor_kind, actor_id, reason) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        provider_id,
        from_status,
        to_status,
        actor_kind,
        actor_id,
        reason,
    )
    await outbox.publish(topics.ProviderChanged(provider_id=provider_id))
    if to_status == "closed":
        await outbox.publish(topics.ProviderClosed(provider_id=provider_id))


async def transition(
    connection,
    provider_id: int,
    allowed_from: tuple[str, ...],
    to_status: str,
    actor_kind: str,
    actor_id: int | None,
    reason: str = "",
) -> str:
    """Move the provider to `to_status` if it is in one of `allowed_from`; returns the old status.

    Runs in the caller's transaction; the row lock makes a concurrent second decision
    see the first one's result and fail with Conflict."""
    current = await connection.fetchval("SELECT status FROM provider WHERE id = $1 FOR UPDATE", provider_id)
    if current is None:
        raise NotFound("No such provider.", code="provider_not_found")
    if current not in allowed_from:
        raise Conflict(
            "The provider's status does not allow this now.",
            code="status_conflict",
            status_now=current,
        )
    await connection.execute(
        "UPDATE provider SET status = $2, updated_at = now() WHERE id = $1", provider_id, to_status
    )
    await _record(connection, provider_id, current, to_status, actor_kind, actor_id, reason)
    return current


async def _provider_in_scope(principal: Principal, provider_id: int) -> dict:
    provider = await get_provider(provider_id)
    await scope.require_in_scope(principal, provider["node"] if provider else None, _no_provider())
    assert provider is not None
    return provider


def _no_provider() -> NotFound:
    """The answer to a missing provider, and to one out of the caller's reach (scope.py's policy)."""
    return NotFound("No such provider in your scope.", code="provider_not_found")


async def decide(principal: Principal, provider_id: int, action: str, reason: str = "") -> str:
    """An operator's decision on a provider in their scope; returns the new status."""
    await _provider_in_scope(principal, provider_id)
    if action not in DECISIONS:
        raise Invalid(
            "Choose one of the actions: %(actions)s.", field="action", params={"actions": ", ".join(DECISIONS)}
        )
    allowed_from, to_status, reason_required = DECISIONS[action]
    reason = reason.strip()
    if reason_required and not reason:
        raise Invalid("Give a reason for this decision.", code="reason_required", field="reason")
    async with engine().transaction() as transaction:
        await transition(transaction.connection, provider_id, allowed_from, to_status, "operator", principal.id, reason)
    return to_status


async def set_lease_end(principal: Principal, ends_on: date | None) -> None:
    """The owner gives (or clears) the date the lease of its premises ends. Prepaid Guard stops
    new prepaid package sales when it is near (evaluation/enforcement/freeze.py)."""
    provider_id = guards.require_owner(principal)
    if ends_on is not None and not date(2000, 1, 1) <= ends_on <= date(2100, 12, 31):
        raise Invalid("Enter a date between 2000 and 2100.", field="lease_ends_on")
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "UPDATE provider SET lease_ends_on = $2, updated_at = now() WHERE id = $1", provider_id, ends_on
        )
    log.info("provider_lease_end_set", provider_id=provider_id, given=ends_on is not None)


async def resubmit(principal: Principal, data: ProviderDetailsInput) -> None:
    """The owner corrects the application after a request for changes and sends it back for review."""
    provider_id = guards.require_owner(principal)
    name = _check_text(data.name, "name")
    contact_name = _check_text(data.contact_name, "contact_name")
    phone = _check_phone(data.contact_phone, "contact_phone")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        await transition(connection, provider_id, ("changes_requested",), "applied", "provider", principal.id, "")
        await connection.execute(
            "UPDATE provider SET name = $2, kind = $3, contact_name = $4, contact_phone_cipher = $5, "
            "contact_phone_masked = $6 WHERE id = $1",
            provider_id,
            name,
            data.kind,
            contact_name,
            pii.encrypt(phone),
            pii.mask_phone(phone),
        )


# Reading for operators and owners ----------------------------------------------------------------


async def list_providers(
    principal: Principal, status: str | None = "applied", page: int = 1, page_size: int = 20, q: str = ""
) -> ProviderPage:
    """Providers serving nodes in the operator's subtree, oldest first (a review queue);
    with `q`, those whose name or credit code contains it."""
    text = search_text(q)
    args: list = [principal.node_path or "-"]
    where = "n.path LIKE $1 || '%'"
    if status:
        args.append(status)
        where += f" AND p.status = ${len(args)}"
    if text:
        args.append(text)
        where += f" AND (p.name ILIKE '%' || ${len(args)} || '%' OR p.credit_code ILIKE '%' || ${len(args)} || '%')"
    rows = await db.fetch(
        "SELECT p.id, p.name, p.credit_code, p.kind, p.status, p.node AS node_id, n.name_zh AS node_name, "
        "n.name_en AS node_name_en, p.created_at, count(*) OVER () AS total "
        "FROM provider p JOIN union_node n ON n.id = p.node "
        f"WHERE {where} ORDER BY p.created_at, p.id LIMIT {int(page_size)} OFFSET {int((page - 1) * page_size)}",
        *args,
    )
    total = rows[0]["total"] if rows else 0
    items = [ProviderSummary(**{k: row[k] for k in ProviderSummary.__struct_fields__}) for row in rows]
    return ProviderPage(items=items, total=total, page=page, page_size=page_size)


async def history(provider_id: int) -> list[StatusChangeRead]:
    from providers.tables import ProviderStatusChange as Change

    rows = await Change.select().where(Change.provider == provider_id).order_by(Change.at).order_by(Change.id)
    return [
        StatusChangeRead(
            from_status=r["from_status"],
            to_status=r["to_status"],
            actor_kind=r["actor_kind"],
            actor_id=r["actor_id"],
            reason=r["reason"],
            at=r["at"],
        )
        for r in rows
    ]


def _location(row: dict) -> LocationRead:
    hours = row["opening_hours"]
    return LocationRead(
        id=row["id"],
        name=row["name"],
        address=row["address"],
        district=row["district"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        opening_hours=json.loads(hours) if isinstance(hours, str) else hours,
        phone=row.get("phone") or "",
    )


async def _detail(provider: dict) -> ProviderDetail:
    node = await federation.get_node(provider["node"])
    return ProviderDetail(
        id=provider["id"],
        name=provider["name"],
        credit_code=provider["credit_code"],
        kind=provider["kind"],
        status=provider["status"],
        node_id=node.id,
        node_name=node.name_zh,
        node_name_en=node.name_en or "",
        contact_name=provider["contact_name"],
        contact_phone=provider["contact_phone_masked"],
        created_at=provider["created_at"],
        licence_image=provider.get("licence_image"),
        locations=[_location(row) for row in await list_locations(provider["id"])],
        history=await history(provider["id"]),
    )


async def provider_detail(principal: Principal, provider_id: int) -> ProviderDetail:
    """For an operator whose scope covers the provider; the contact phone masked."""
    return await _detail(await _provider_in_scope(principal, provider_id))


async def my_provider(principal: Principal) -> ProviderDetail:
    return await _detail(await own_provider(principal))


async def own_provider(principal: Principal) -> dict:
    """The provider row of a provider user (as get_provider)."""
    assert principal.provider_id is not None  # the route admits provider users only
    provider = await get_provider(principal.provider_id)
    if provider is None:
        raise NotFound("Your provider does not exist.", code="provider_not_found")
    return provider


# Locations (owner) ---------------------------------------------------------------------------------


async def _locations_changed(connection, provider_id: int) -> None:
    """Its locations are part of what search shows of a provider: the index is told, and the
    provider's `updated_at` moves, which is how a reindex running meanwhile knows to write the
    provider's offers again before it swaps."""
    await connection.execute("UPDATE provider SET updated_at = now() WHERE id = $1", provider_id)
    await outbox.publish(topics.ProviderChanged(provider_id=provider_id))


async def add_location(principal: Principal, data: LocationInput) -> LocationRead:
    provider_id = guards.require_owner(principal)
    location = check_location(data)
    async with engine().transaction() as transaction:
        location_id = await _insert_location(transaction.connection, provider_id, location)
        await _locations_changed(transaction.connection, provider_id)
    return LocationRead(id=location_id, **location)


async def update_location(principal: Principal, location_id: int, data: LocationInput) -> LocationRead:
    provider_id = guards.require_owner(principal)
    location = check_location(data)
    async with engine().transaction() as transaction:
        found = await transaction.connection.fetchval(
            "UPDATE location SET name = $3, address = $4, district = $5, latitude = $6, longitude = $7, "
            "opening_hours = $8::jsonb, phone = $9 WHERE id = $1 AND provider = $2 RETURNING id",
            location_id,
            provider_id,
            *_location_values(location),
        )
        if found is None:
            raise NotFound("No such location.", code="location_not_found")
        await _locations_changed(transaction.connection, provider_id)
    return LocationRead(id=location_id, **location)


async def remove_location(principal: Principal, location_id: int) -> None:
    """Remove a location; never the provider's last one, nor one an offer still names."""
    provider_id = guards.require_owner(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        # The provider row lock serialises removals, so two of them cannot remove the last two.
        await connection.execute("SELECT 1 FROM provider WHERE id = $1 FOR UPDATE", provider_id)
        count = await connection.fetchval("SELECT count(*) FROM location WHERE provider = $1", provider_id)
        exists = await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM location WHERE id = $1 AND provider = $2)", location_id, provider_id
        )
        if not exists:
            raise NotFound("No such location.", code="location_not_found")
        if count <= 1:
            raise Conflict("A provider keeps at least one location.", code="last_location")
        try:
            async with connection.transaction():
                await connection.execute("DELETE FROM location WHERE id = $1", location_id)
        except ForeignKeyViolationError as error:
            raise Conflict("Offers still name this location; change them first.", code="location_in_use") from error
        await _locations_changed(connection, provider_id)


# Users (owner) -------------------------------------------------------------------------------------


async def list_users(provider_id: int) -> list[UserRead]:
    rows = await ProviderUser.select().where(ProviderUser.provider == provider_id).order_by(ProviderUser.id)
    return [
        UserRead(id=r["id"], username=r["username"], display_name=r["display_name"], role=r["role"], active=r["active"])
        for r in rows
    ]


async def add_staff(principal: Principal, data: AccountInput) -> UserRead:
    provider_id = guards.require_owner(principal)
    if not data.display_name.strip():
        raise Invalid("Enter a name.", field="display_name")
    username, password_hash, display_name = await _check_account(data, "", data.display_name)
    try:
        async with engine().transaction() as transaction:
            user_id = await transaction.connection.fetchval(
                "INSERT INTO provider_user (provider, username, display_name, role, password_hash) "
                "VALUES ($1, $2, $3, 'staff', $4) RETURNING id",
                provider_id,
                username,
                display_name,
                password_hash,
            )
    except UniqueViolationError as error:
        raise Conflict("This username is taken.", code="username_taken", field="username") from error
    return UserRead(id=user_id, username=username, display_name=display_name, role="staff", active=True)


async def _password_hash(user_id: int) -> str | None:
    row = await ProviderUser.select(ProviderUser.password_hash).where(ProviderUser.id == user_id).first()
    return row["password_hash"] if row else None


async def _check_password(user_id: int, password: str) -> None:
    row = await ProviderUser.select(ProviderUser.username).where(ProviderUser.id == user_id).first()
    check_staff_password(password, row["username"] if row else "")


async def _set_password(user_id: int, password_hash: str) -> None:
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "UPDATE provider_user SET password_hash = $2, must_change_password = false WHERE id = $1",
            user_id,
            password_hash,
        )


async def reset_staff_password(principal: Principal, user_id: int, password_hash: str) -> None:
    """The owner sets a staff account's password to a temporary one, to be changed at sign-in."""
    provider_id = guards.require_owner(principal)
    async with engine().transaction() as transaction:
        found = await transaction.connection.fetchval(
            "UPDATE provider_user SET password_hash = $3, must_change_password = true "
            "WHERE id = $1 AND provider = $2 AND role = 'staff' AND active RETURNING id",
            user_id,
            provider_id,
            password_hash,
        )
    if found is None:
        raise NotFound("This staff account does not exist.", code="user_not_found")


async def deactivate_staff(principal: Principal, user_id: int) -> None:
    """The staff account can no longer sign in; its open sessions stop at their next request."""
    provider_id = guards.require_owner(principal)
    async with engine().transaction() as transaction:
        found = await transaction.connection.fetchval(
            "UPDATE provider_user SET active = false WHERE id = $1 AND provider = $2 AND role = 'staff' RETURNING id",
            user_id,
            provider_id,
        )
    if found is None:
        raise NotFound("No such staff account.", code="user_not_found")


def district_name(node_name: str) -> str:
    """朝阳区总工会 → 朝阳区: the district a district federation is named after."""
    for suffix in ("总工会", "工会联合会", "工会"):
        if node_name.endswith(suffix) and len(node_name) > len(suffix):
            return node_name[: -len(suffix)]
    return node_name


async def district_choices(node_id: int | None = None) -> list[str]:
    """The 区域 a location may lie in: the districts of the federation's district unions under
    the city of `node_id` (all of them without one), in tree order."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT d.name_zh FROM union_node d WHERE d.level = 'district' AND d.path LIKE coalesce(("
            "  SELECT c.path FROM union_node c, union_node n WHERE n.id = $1 AND c.level = 'city'"
            "  AND n.path LIKE c.path || '%' LIMIT 1), '') || '%' ORDER BY d.path",
            node_id,
        )
    names = []
    for row in rows:
        name = district_name(row["name_zh"])
        if name not in names:
            names.append(name)
    return names


async def serving_nodes() -> list[dict]:
    """The city and district federations a provider may apply to serve, most relevant first:
    each city followed by its districts, the cities with the most members first (the
    federation's own city leads the list instead of the first one in the tree)."""
    return await db.fetch(
        "WITH city AS (SELECT c.path, (SELECT count(*) FROM member m JOIN union_node mn ON mn.id = m.node "
        "  WHERE mn.path LIKE c.path || '%') AS members FROM union_node c WHERE c.level = 'city') "
        "SELECT n.id, n.name_zh, n.name_en, n.level, n.depth FROM union_node n "
        "LEFT JOIN city ON n.path LIKE city.path || '%' WHERE n.level = ANY($1::varchar[]) "
        "ORDER BY coalesce(city.members, 0) DESC, coalesce(city.path, n.path), n.path",
        list(SERVING_LEVELS),
    )


async def count_providers(principal: Principal, status: str = "applied") -> int:
    """How many providers of a status serve nodes in the operator's scope (the to-do list)."""
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT count(*) FROM provider p JOIN union_node n ON n.id = p.node "
            "WHERE n.path LIKE $1 || '%' AND p.status = $2",
            principal.node_path or "-",
            status,
        )


# Sign-in, sessions and password changes of provider users go through identity.
credentials.register(
    "provider",
    credentials.Accounts(
        load_principal=_staff_principal,
        find_credentials=find_user_credentials,
        password_hash=_password_hash,
        check_password=_check_password,
        set_password=_set_password,
        reset_password=reset_staff_password,
    ),
)
