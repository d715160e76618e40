"""Redemptions as evaluation learns of them, the member's satisfaction survey and ratings.

The marketplace announces every redemption (`voucher.redeemed`) and every "was the
discount honoured?" answer (`voucher.honoured`) through its outbox; evaluation keeps its
own record of them, so the quality loop never reads the marketplace's tables.

- A configurable time after the redemption (`SURVEY_DELAY_MINUTES`, default 120), the
  member is asked to rate it (`evaluation.survey_due`, delivered by the marketplace as an
  in-app message and through its message sender).
- Only the member of a recorded redemption may rate it, once, and may edit the rating
  for 7 days. Comments are length-limited and stored as typed; pages escape them.
- Gaming resistance: a rating is held out of the score, until an operator clears it,
  when it is part of a burst on one provider, from one network or from new accounts.
- Integrity signals: many redemptions by one staff account within minutes, or at night,
  open an integrity case for operators (evaluation.enforcement.policy).
"""

import ipaddress
import os
from datetime import UTC, datetime, timedelta

import structlog

from evaluation.enforcement import policy
from evaluation.schemas import RatingInput, RatingRead
from evaluation.scorecards import services as scorecards
from marketplace.core import dates, personal_data, pii
from marketplace.core.audit import services as audit
from marketplace.core.db import engine, search_text
from marketplace.core.errors import Conflict, NotFound
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics

log = structlog.get_logger(__name__)

EDITABLE_DAYS = 7
# A burst: this many ratings of one provider within BURST_WINDOW from one network, or
# from accounts younger than NEW_ACCOUNT_DAYS, and the next ones are held.
BURST_WINDOW = timedelta(hours=1)
BURST_SIZE = 3
NEW_ACCOUNT_DAYS = 7
# Integrity: this many redemptions by one staff account within STAFF_BURST_WINDOW, or a
# redemption between NIGHT_START and NIGHT_END local time, raise a case.
STAFF_BURST_SIZE = 10
STAFF_BURST_WINDOW = timedelta(minutes=5)
NIGHT_HOURS = range(0, 5)


def survey_delay() -> timedelta:
    return timedelta(minutes=int(os.environ.get("SURVEY_DELAY_MINUTES", "120")))


def network_of(address: str | None) -> str:
    """The /24 (IPv4) or /48 (IPv6) a client address belongs to; '' when unknown."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    return str(ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 48}", strict=False))


# The feed from the marketplace ---------------------------------------------------------------------


@personal_data.forgets("rating")
async def forget_member(connection, member_id: int) -> None:
    """The score stays in the figures; the member's words and name go."""
    await connection.execute("UPDATE rating SET comment = '', member_masked = '*' WHERE member = $1", member_id)


async def low_of_provider(provider_id: int, limit: int = 20) -> tuple[list[dict], int]:
    """A provider's latest ratings of 1 or 2, the evidence of an enforcement case, and how
    many there are in all."""
    async with engine().transaction() as transaction:
        connection = transaction.connection
        rows = await connection.fetch(
            "SELECT overall, honoured, comment, created_at, held FROM rating WHERE provider = $1 AND overall <= 2 "
            "ORDER BY created_at DESC LIMIT $2",
            provider_id,
            limit,
        )
        total = await connection.fetchval(
            "SELECT count(*) FROM rating WHERE provider = $1 AND overall <= 2", provider_id
        )
    return [dict(row) for row in rows], total


personal_data.keeps("redemption", why="the quality figures of providers; it holds ids and times only")


async def record_redemption(event: topics.VoucherRedeemed) -> bool:
    """Keep a redemption the marketplace announced; False when it was already kept."""
    redeemed_at = event.redeemed_at
    async with engine().transaction() as transaction:
        connection = transaction.connection
        stored = await connection.fetchval(
            "INSERT INTO redemption (voucher, provider, offer, category, member, staff, location, redeemed_at, "
            "survey_due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (voucher) DO NOTHING RETURNING id",
            event.voucher_id,
            event.provider_id,
            event.offer_id,
            event.category_id,
            event.member_id,
            event.staff_id,
            event.location_id,
            redeemed_at,
            redeemed_at + survey_delay(),
        )
        if stored is None:
            return False
        await _check_integrity(connection, event.provider_id, event.staff_id, redeemed_at)
    return True


async def record_honoured(voucher_id: int, honoured: bool) -> None:
    async with engine().transaction() as transaction:
        updated = await transaction.connection.fetchval(
            "UPDATE redemption SET honoured = $2 WHERE voucher = $1 RETURNING provider", voucher_id, honoured
        )
        if updated is None:  # the redemption's own event has not been applied yet: retried later
            raise LookupError(f"redemption of voucher {voucher_id} not recorded yet")
        await scorecards.rating_changed(updated)


async def _check_integrity(connection, provider_id: int, staff_id: int | None, redeemed_at: datetime) -> None:
    reasons = []
    if staff_id is not None:
        recent = await connection.fetchval(
            "SELECT count(*) FROM redemption WHERE staff = $1 AND redeemed_at > $2 AND redeemed_at <= $3",
            staff_id,
            redeemed_at - STAFF_BURST_WINDOW,
            redeemed_at,
        )
        if recent == STAFF_BURST_SIZE:  # once, when the burst reaches the size
            reasons.append(
                {
                    "code": "staff_burst",
                    "staff_id": staff_id,
                    "count": recent,
                    "minutes": int(STAFF_BURST_WINDOW.total_seconds() // 60),
                }
            )
    if redeemed_at.astimezone(dates.zone()).hour in NIGHT_HOURS:
        reasons.append({"code": "night_redemption", "at": redeemed_at.isoformat()})
    if reasons:
        await policy.open_integrity_case(connection, provider_id, reasons)


async def send_due_surveys(now: datetime | None = None, batch: int = 1000) -> int:
    """Ask members to rate redemptions whose survey time has come (once each)."""
    now = now or datetime.now(UTC)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        rows = await connection.fetch(
            "UPDATE redemption SET survey_sent_at = $1 WHERE id IN ("
            "  SELECT id FROM redemption WHERE survey_sent_at IS NULL AND survey_due_at <= $1 "
            "  ORDER BY survey_due_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING member, voucher, provider",
            now,
            batch,
        )
        for row in rows:
            await outbox.publish(
                topics.SurveyDue(member_id=row["member"], voucher_id=row["voucher"], provider_id=row["provider"])
            )
    return len(rows)


# Ratings -------------------------------------------------------------------------------------------


_RATING_SQL = """
SELECT r.id, rd.voucher, r.provider, r.overall, r.service, r.honoured, r.environment, r.attitude, r.comment,
       r.created_at, r.updated_at, r.held
FROM rating r JOIN redemption rd ON rd.id = r.redemption
"""


def _read(row) -> RatingRead:
    editable_until = row["created_at"] + timedelta(days=EDITABLE_DAYS)
    return RatingRead(
        id=row["id"],
        voucher_id=row["voucher"],
        provider_id=row["provider"],
        overall=row["overall"],
        service=row["service"],
        honoured=row["honoured"],
        environment=row["environment"],
        attitude=row["attitude"],
        comment=row["comment"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        editable_until=editable_until,
        editable=datetime.now(UTC) < editable_until,
        held=row["held"],
    )


async def my_rating(principal: Principal, voucher_id: int) -> RatingRead | None:
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            _RATING_SQL + "WHERE rd.voucher = $1 AND r.member = $2", voucher_id, principal.id
        )
    return _read(row) if row else None


async def my_ratings(principal: Principal) -> list[RatingRead]:
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(_RATING_SQL + "WHERE r.member = $1 ORDER BY r.id", principal.id)
    return [_read(row) for row in rows]


async def rate(
    principal: Principal,
    voucher_id: int,
    data: RatingInput,
    *,
    client_address: str | None = None,
    member_since: datetime | None = None,
) -> RatingRead:
    """Rate (or, within 7 days, re-rate) a redemption of the member's."""
    guards.require_member(principal)
    now = datetime.now(UTC)
    network = network_of(client_address)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        # FOR UPDATE: two first ratings sent at once are taken one after the other (the
        # second edits what the first wrote) instead of colliding on the unique index.
        redemption = await connection.fetchrow(
            "SELECT id, provider FROM redemption WHERE voucher = $1 AND member = $2 FOR UPDATE",
            voucher_id,
            principal.id,
        )
        if redemption is None:
            raise NotFound("Only a voucher you have used can be rated.", code="not_rateable")
        existing = await connection.fetchrow(
            "SELECT id, created_at FROM rating WHERE redemption = $1 FOR UPDATE", redemption["id"]
        )
        values = (data.overall, data.service, data.honoured, data.environment, data.attitude, data.comment.strip())
        if existing is None:
            new_account = member_since is not None and now - member_since < timedelta(days=NEW_ACCOUNT_DAYS)
            hold = await _hold_reason(connection, redemption["provider"], network, new_account, now)
            await connection.execute(
                "INSERT INTO rating (redemption, provider, member, overall, service, honoured, environment, attitude, "
                "comment, created_at, updated_at, held, hold_reason, network, new_account, member_masked) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14, $15)",
                redemption["id"],
                redemption["provider"],
                principal.id,
                *values,
                now,
                hold is not None,
                hold,
                network,
                new_account,
                pii.mask_name(principal.display_name or ""),
            )
            if hold:
                log.info("rating_held", provider_id=redemption["provider"], reason=hold)
        else:
            if now >= existing["created_at"] + timedelta(days=EDITABLE_DAYS):
                raise Conflict("A rating can be changed for 7 days only.", code="rating_locked")
            await connection.execute(
                "UPDATE rating SET overall = $2, service = $3, honoured = $4, environment = $5, attitude = $6, "
                "comment = $7, updated_at = $8 WHERE id = $1",
                existing["id"],
                *values,
                now,
            )
        await scorecards.rating_changed(redemption["provider"])
        row = await connection.fetchrow(_RATING_SQL + "WHERE r.redemption = $1", redemption["id"])
    return _read(row)


async def _hold_reason(connection, provider_id: int, network: str, new_account: bool, now: datetime) -> str | None:
    """Why a new rating joins a burst and must wait for an operator, if it does: the
    provider already has BURST_SIZE - 1 ratings within the window from the same network,
    or (for a new account's rating) from new accounts."""
    since = now - BURST_WINDOW
    if network:
        same_network = await connection.fetchval(
            "SELECT count(*) FROM rating WHERE provider = $1 AND network = $2 AND created_at > $3",
            provider_id,
            network,
            since,
        )
        if same_network >= BURST_SIZE - 1:
            return "burst_one_network"
    if new_account:
        new_accounts = await connection.fetchval(
            "SELECT count(*) FROM rating WHERE provider = $1 AND new_account AND created_at > $2", provider_id, since
        )
        if new_accounts >= BURST_SIZE - 1:
            return "burst_new_accounts"
    return None


_HELD_SQL = (
    "SELECT r.id, r.provider, p.name AS provider_name, r.overall, r.comment, r.hold_reason, r.created_at "
    "FROM rating r JOIN provider p ON p.id = r.provider JOIN union_node n ON n.id = p.node "
    "WHERE r.held AND r.cleared_at IS NULL AND n.path LIKE $1 || '%' "
)


async def held_ratings(principal: Principal, limit: int = 100, ids: list[int] | None = None) -> list[dict]:
    """Held ratings of providers in the operator's scope, oldest first; only `ids` when given
    (the ratings ticked for a bulk verdict)."""
    policy.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _HELD_SQL + "AND ($3::bigint[] IS NULL OR r.id = ANY($3)) ORDER BY r.created_at, r.id LIMIT $2",
            principal.node_path,
            limit,
            ids,
        )
    return [dict(row) for row in rows]


HOLD_REASONS = ("burst_one_network", "burst_new_accounts")


async def held_page(
    principal: Principal, page: int = 1, page_size: int = 50, *, q: str = "", reason: str = ""
) -> tuple[list[dict], int, int]:
    """One page of the held ratings in the operator's scope, oldest first, by part of the
    provider's name and why they were held: the rows, how many match in all, and the page
    shown (the last one when asked for a page past the end, as after the operator decided
    every rating of the last page)."""
    policy.require_operator(principal)
    text = search_text(q)[:60]
    where = "AND ($2 = '' OR p.name ILIKE '%' || $2 || '%') AND ($3 = '' OR r.hold_reason = $3) "
    async with engine().transaction() as transaction:
        connection = transaction.connection
        total = await connection.fetchval(
            "SELECT count(*) FROM (" + _HELD_SQL + where + ") held", principal.node_path, text, reason
        )
        page = max(1, min(page, -(-total // page_size)))
        rows = await connection.fetch(
            _HELD_SQL + where + "ORDER BY r.created_at, r.id LIMIT $4 OFFSET $5",
            principal.node_path,
            text,
            reason,
            page_size,
            (page - 1) * page_size,
        )
    return [dict(row) for row in rows], total, page


async def clear_held(principal: Principal, rating_id: int, keep: bool, reason: str | None = None) -> None:
    """An operator's verdict on a held rating: counted from now on, or left out for good;
    the verdict and the operator's reason (one for a whole bulk decision) are audited."""
    policy.require_operator(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        provider_id = await connection.fetchval(
            "SELECT r.provider FROM rating r JOIN provider p ON p.id = r.provider JOIN union_node n ON n.id = p.node "
            "WHERE r.id = $1 AND r.held AND r.cleared_at IS NULL AND n.path LIKE $2 || '%'",
            rating_id,
            principal.node_path,
        )
        if provider_id is None:
            raise NotFound("No held rating with this id in your scope.", code="rating_not_found")
        if keep:
            await connection.execute("UPDATE rating SET held = false, cleared_at = now() WHERE id = $1", rating_id)
        else:
            await connection.execute(
                "UPDATE rating SET hold_reason = 'rejected_by_operator', cleared_at = now() WHERE id = $1", rating_id
            )
        await audit.record(
            connection,
            principal,
            "rating.held_cleared",
            "rating",
            rating_id,
            reason=reason or None,
            details={"counted": keep, "provider": provider_id},
        )
        await scorecards.rating_changed(provider_id)


async def count_held(principal: Principal) -> int:
    """Held ratings waiting for an operator's verdict, in scope (the to-do list)."""
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT count(*) FROM rating r JOIN provider p ON p.id = r.provider JOIN union_node n ON n.id = p.node "
            "WHERE r.held AND r.cleared_at IS NULL AND n.path LIKE $1 || '%'",
            principal.node_path or "-",
        )
