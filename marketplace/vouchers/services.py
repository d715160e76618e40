"""Claims, vouchers and their redemption at the counter.

A claim re-checks everything at claim time, never trusting the page the member came
from: eligibility (node scope, groups), the offer and its provider visible, the validity
window, the member's limit for the period and the stock. Limit and stock are each one
conditional statement in PostgreSQL, in one transaction, so concurrent claims can
neither oversell nor exceed a limit. A voucher is redeemed exactly once: the redeeming
UPDATE only matches an issued voucher.

Points offers spend the member's points in the same transaction (marketplace.points);
booking offers take one place of the chosen slot the same way as stock.

Policy: a voucher lasts to the end of its offer's last valid day in Asia/Shanghai (a
booking, until its slot ends), as the window stood when it was claimed: a later revision
of the offer does not shorten vouchers already issued. Whole days, so that no voucher
expires at an odd moment such as 02:00 or 08:13 (see marketplace/core/dates.py). Cancelling an issued voucher gives back its stock,
its slot place, its points, its campaign subsidy and its place in the member's limit.

Policy: a voucher whose payment the member's bank disputes is held until the bank decides:
it is not redeemed, cancelled, expired, nor cancelled by its provider's delisting (a refund
then would pay twice). Its expiry is paused: when a dispute the provider wins ends, the
voucher gets back the time it was held, to the end of that day; a delisting that cancelled
its provider's vouchers meanwhile cancels and refunds it then. A lost dispute refunds it.
"""

import contextlib
from datetime import UTC, datetime, time, timedelta

import msgspec
import structlog
from redis.exceptions import RedisError

from catalog import services as catalog
from evaluation.complaints import services as complaints
from evaluation.ratings import services as ratings
from evaluation.schemas import ComplaintInput, ComplaintRead, RatingInput, RatingRead
from marketplace.campaigns import services as campaigns
from marketplace.core import dates, db, notifications, personal_data, pii, ratelimit
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid, NotFound, TooManyRequests
from marketplace.core.federation import services as federation
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics
from marketplace.core.web.nav import N_
from marketplace.points import services as points
from marketplace.prepaid import escrow
from marketplace.vouchers import codes
from marketplace.vouchers.schemas import ClaimState, CounterVoucher, VoucherRead
from providers import services as providers

log = structlog.get_logger(__name__)

# marketplace/payments subscribes by this name (its package is being changed elsewhere);
# everything else names the Struct.
PAID_VOUCHER_CANCELLED = topics.PaidVoucherCancelled.topic
# Claimed here; paid offers go through marketplace.payments, which holds a pending voucher.
CLAIMABLE_KINDS = ("voucher", "slot", "points")
# Unknown codes looked up at the counter, per window: beyond these a staff account or a
# provider is refused for the rest of the window; at ALERT_MISSES the operators are told.
MISS_WINDOW_SECONDS = 600
STAFF_MISS_LIMIT = 20
PROVIDER_MISS_LIMIT = 100
ALERT_MISSES = 50
# A prepaid package's voucher ends through marketplace/prepaid (cooling-off, delisting, its
# end date), which refunds what is left in escrow: never through a cancel, a provider's
# cancellation or the expiry job here, which would refund used sessions or keep unused ones.
_NOT_PREPAID = "offer NOT IN (SELECT id FROM offer WHERE kind = 'prepaid')"


personal_data.keeps(
    "voucher", "claim_count", why="accounting and per-member limits: what was claimed, redeemed and paid stays"
)


@personal_data.forgets("restock_alert")
async def forget_member(connection, member_id: int) -> None:
    """What an erased member was waiting for is nobody's business any more."""
    await connection.execute("DELETE FROM restock_alert WHERE member = $1", member_id)


def period_start(period: str, now: datetime) -> datetime:
    """The start of the limit window holding `now`, in Shanghai's calendar."""
    local = now.astimezone(dates.zone())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return midnight
    if period == "week":
        return midnight - timedelta(days=local.weekday())
    if period == "month":
        return midnight.replace(day=1)
    if period == "year":
        return midnight.replace(month=1, day=1)
    return datetime(1970, 1, 1, tzinfo=UTC)  # "total": one window for all time


def node_ids(principal: Principal) -> list[int]:
    return [int(part) for part in (principal.node_path or "").strip("/").split("/") if part]


_VOUCHER_SQL = """
SELECT v.id, v.code, v.offer, v.provider, v.status, v.claimed_at, v.expires_at, v.redeemed_at, v.cancelled_at,
       v.honoured, v.subsidy_fen, v.paid_fen, v.points_spent, v.refunded_fen, v.disputed_at,
       o.title_zh, o.title_en, o.kind, o.list_price_fen, o.member_price_fen, p.name AS provider_name,
       s.starts_at AS slot_starts_at, s.ends_at AS slot_ends_at, l.name AS location_name
FROM voucher v JOIN offer o ON o.id = v.offer JOIN provider p ON p.id = v.provider
LEFT JOIN offer_slot s ON s.id = v.slot LEFT JOIN location l ON l.id = v.redeemed_location
"""


def _read(row) -> VoucherRead:
    return VoucherRead(
        id=row["id"],
        code=row["code"],
        code_display=codes.display(row["code"]),
        offer_id=row["offer"],
        offer_title_zh=row["title_zh"],
        offer_title_en=row["title_en"],
        provider_id=row["provider"],
        provider_name=row["provider_name"],
        kind=row["kind"],
        list_price_fen=row["list_price_fen"],
        member_price_fen=row["member_price_fen"],
        subsidy_fen=row["subsidy_fen"],
        paid_fen=row["paid_fen"],
        points_spent=row["points_spent"],
        status=row["status"],
        claimed_at=row["claimed_at"],
        expires_at=row["expires_at"],
        redeemed_at=row["redeemed_at"],
        redeemed_location=row["location_name"],
        cancelled_at=row["cancelled_at"],
        honoured=row["honoured"],
        slot_starts_at=row["slot_starts_at"],
        slot_ends_at=row["slot_ends_at"],
        refunded_fen=row["refunded_fen"],
        disputed=row["disputed_at"] is not None,
    )


async def claim(
    principal: Principal, offer_id: int, slot_id: int | None = None, *, drawn_place: bool = False
) -> VoucherRead:
    """Claim one voucher of an offer for the signed-in member (a booking names its slot).
    An offer given by draw is claimed only with a place the draw gave (marketplace/draws
    passes `drawn_place`); everything else is checked as for any claim."""
    guards.require_member(principal)
    federation.require_current_member(principal)
    now = datetime.now(UTC)
    offer = await open_offer(principal, offer_id)
    if offer["by_draw"] and not drawn_place:
        raise Conflict("This offer is given by draw: enter the draw on its page.", code="by_draw")
    if offer["kind"] not in CLAIMABLE_KINDS:
        raise Conflict("This offer is paid online: pay for it on its payment page.", code="kind_not_claimable")
    if offer["kind"] == "slot" and slot_id is None:
        raise Invalid("Choose a time slot first.", code="slot_required", field="slot_id")
    if offer["kind"] != "slot" and slot_id is not None:
        raise Invalid(
            "Choose a time slot for a booking, and only for a booking.", code="slot_required", field="slot_id"
        )
    async with engine().transaction() as transaction:
        connection = transaction.connection
        voucher_id, _ = await issue(connection, principal, offer, now, slot_id=slot_id)
        if (
            offer["kind"] == "points"
            and await points.spend_for_voucher(connection, principal.id, voucher_id, offer["points_price"]) is None
        ):
            raise Conflict(
                "You do not have enough points for this offer.",
                code="insufficient_points",
                points_price=offer["points_price"],
            )
        row = await connection.fetchrow(_VOUCHER_SQL + "WHERE v.id = $1", voucher_id)
        # Last, so the offer row's lock is held only until the commit that follows.
        if await catalog.take_stock(connection, offer_id) is None:
            raise Conflict("This offer has run out.", code="sold_out")
    log.info("voucher_claimed", voucher_id=voucher_id, offer_id=offer_id)
    return _read(row)


async def open_offer(principal: Principal, offer_id: int) -> dict:
    """The offer, if this member may claim it now and it has stock left; one statement,
    before any transaction, because most attempts of a flash sale come after the last
    unit and are refused here. take_stock, at the end of the claim's transaction, stays
    the authority on stock and on the offer still being open. An offer found sold out in
    the last second is refused without a statement (catalog.known_sold_out)."""
    known = catalog.known_sold_out(offer_id, node_ids(principal), principal.groups)
    if known is True:
        raise Conflict("This offer has run out.", code="sold_out")
    if known is False:
        raise NotFound("This offer does not exist or is not open to you.", code="offer_not_found")
    async with db.connection() as connection:
        offer = await catalog.claimable_offer(connection, offer_id, node_ids(principal), list(principal.groups))
    if offer is None:
        raise NotFound("This offer does not exist or is not open to you.", code="offer_not_found")
    if offer["stock_left"] <= 0:
        raise Conflict("This offer has run out.", code="sold_out")
    return offer


async def at_limit(principal: Principal, offer: dict, now: datetime | None = None) -> bool:
    """True when the member already holds as many of this offer as its limit allows for the
    period (`offer` as open_offer returns it): a draw does not take their entry."""
    async with db.connection() as connection:
        held = await connection.fetchval(
            "SELECT claims FROM claim_count WHERE member = $1 AND offer = $2 AND period_start = $3",
            principal.id,
            offer["id"],
            period_start(offer["limit_period"], now or datetime.now(UTC)),
        )
    return (held or 0) >= offer["per_member_limit"]


async def claim_state(
    principal: Principal | None, offer: dict, has_slots: bool = True, now: datetime | None = None
) -> ClaimState:
    """What the member can do on the page of an offer they may see: claim it, or why not
    (即将开始, 已领取, 待支付, 已抢光, no slots). `offer` is the offer's row."""
    now = now or datetime.now(UTC)
    state = ClaimState(state="open", limit=offer["per_member_limit"], limit_period=offer["limit_period"])
    if dates.aware(offer["valid_from"]) > now:
        state.state = "upcoming"
        return state
    if principal is not None and principal.kind == "member":
        async with engine().transaction() as transaction:
            connection = transaction.connection
            state.held = (
                await connection.fetchval(
                    "SELECT claims FROM claim_count WHERE member = $1 AND offer = $2 AND period_start = $3",
                    principal.id,
                    offer["id"],
                    period_start(offer["limit_period"], now),
                )
                or 0
            )
            latest = await connection.fetchrow(
                "SELECT id, status FROM voucher WHERE member = $1 AND offer = $2 "
                "AND status IN ('pending', 'issued', 'redeemed') ORDER BY claimed_at DESC, id DESC LIMIT 1",
                principal.id,
                offer["id"],
            )
            state.alert_set = bool(
                await connection.fetchval(
                    "SELECT 1 FROM restock_alert WHERE member = $1 AND offer = $2 AND notified_at IS NULL",
                    principal.id,
                    offer["id"],
                )
            )
        state.voucher_id = latest["id"] if latest else None
        if offer["kind"] == "points":
            state.points_balance = await points.balance_of(principal.id)
        if state.held >= state.limit:
            state.state = "pending_payment" if latest and latest["status"] == "pending" else "held"
            return state
    if offer["stock_left"] <= 0:
        state.state = "sold_out"
    elif offer["kind"] == "slot" and not has_slots:
        state.state = "no_slots"
    return state


async def ask_restock_alert(principal: Principal, offer_id: int) -> None:
    """到货提醒: tell the member in the inbox when this offer, open to them, has stock again."""
    guards.require_member(principal)
    async with db.connection() as connection:
        offer = await catalog.claimable_offer(connection, offer_id, node_ids(principal), list(principal.groups))
    if offer is None:
        raise NotFound("This offer does not exist or is not open to you.", code="offer_not_found")
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "INSERT INTO restock_alert (member, offer, created_at) VALUES ($1, $2, now()) "
            "ON CONFLICT (member, offer) WHERE notified_at IS NULL DO NOTHING",
            principal.id,
            offer_id,
        )


async def notify_restock(offer_id: int) -> int:
    """The offer changed: when it is published with stock again, everyone waiting for it is
    told once (inbox). Returns how many were told."""
    async with engine().transaction() as transaction:
        connection = transaction.connection
        offer = await connection.fetchrow("SELECT title_zh, stock_left, status FROM offer WHERE id = $1", offer_id)
        if offer is None or offer["stock_left"] <= 0 or offer["status"] != "published":
            return 0
        members = await connection.fetch(
            "UPDATE restock_alert SET notified_at = now() WHERE offer = $1 AND notified_at IS NULL RETURNING member",
            offer_id,
        )
        await notifications.add(
            connection,
            [
                notifications.Message(
                    row["member"], "restock", {"offer": offer["title_zh"]}, link=f"/offers/{offer_id}"
                )
                for row in members
            ],
        )
    return len(members)


notifications.register("restock", N_("Back in stock"), N_("%(offer)s is available again. Claim it before it runs out."))


async def issue(
    connection,
    principal: Principal,
    offer: dict,
    now: datetime,
    *,
    slot_id: int | None = None,
    status: str = "issued",
    paid_fen: int = 0,
) -> tuple[int, str]:
    """Count the claim against the member's limit, book the slot and write the voucher,
    in the caller's transaction (which takes the stock last); the voucher's id and code."""
    start = period_start(offer["limit_period"], now)
    counted = await connection.fetchval(
        "INSERT INTO claim_count (member, offer, period_start, claims) VALUES ($1, $2, $3, 1) "
        "ON CONFLICT (member, offer, period_start) DO UPDATE SET claims = claim_count.claims + 1 "
        "WHERE claim_count.claims < $4 RETURNING claims",
        principal.id,
        offer["id"],
        start,
        offer["per_member_limit"],
    )
    if counted is None:
        raise Conflict(
            "You already hold as many of this offer as you may for now.",
            code="limit_reached",
            limit=offer["per_member_limit"],
            period=offer["limit_period"],
        )
    expires_at = dates.end_of_last_day(offer["valid_to"])
    if slot_id is not None:
        slot_end = await catalog.book_slot(connection, offer["id"], slot_id)
        if slot_end is None:
            raise Conflict(
                "This time slot is full or no longer open; choose another.", code="slot_full", field="slot_id"
            )
        expires_at = min(expires_at, slot_end)  # a booking ends with its slot
    code = codes.new_code()
    voucher_id = await connection.fetchval(
        "INSERT INTO voucher (code, offer, member, provider, status, period_start, claimed_at, expires_at, "
        "subsidy_fen, paid_fen, points_spent, slot) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
        "RETURNING id",
        code,
        offer["id"],
        principal.id,
        offer["provider"],
        status,
        start,
        now,
        expires_at,
        offer["subsidy_fen"],
        paid_fen,
        offer["points_price"] if offer["kind"] == "points" else 0,
        slot_id,
    )
    await campaigns.draw_subsidy(connection, principal, offer, voucher_id)
    return voucher_id, code


# The member's orders (我的订单), by tab: what each tab holds.
ORDER_TABS = {
    "to_use": "v.status IN ('issued', 'pending')",
    "used": "v.status = 'redeemed'",
    "to_rate": "v.status = 'redeemed'",  # less those already rated (evaluation keeps ratings)
    "expired": "v.status = 'expired'",
    "refunds": "v.status IN ('cancelled', 'refunded')",
}


async def my_vouchers(principal: Principal, limit: int | None = 200) -> list[VoucherRead]:
    """The member's vouchers, issued ones first (all of them with limit=None)."""
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _VOUCHER_SQL + "WHERE v.member = $1 ORDER BY (v.status = 'issued') DESC, v.claimed_at DESC LIMIT $2",
            principal.id,
            limit,
        )
    return [_read(row) for row in rows]


async def my_orders(principal: Principal, tab: str, limit: int = 100) -> tuple[list[VoucherRead], dict[str, int]]:
    """One tab of the member's orders, newest first, and how many each tab holds."""
    guards.require_member(principal)
    if tab not in ORDER_TABS:
        raise Invalid("Choose one of the order tabs.", field="tab")
    rated = {rating.voucher_id for rating in await ratings.my_ratings(principal)}
    async with engine().transaction() as transaction:
        connection = transaction.connection
        counts = dict(
            await connection.fetchrow(
                "SELECT "
                + ", ".join(f"count(*) FILTER (WHERE {where}) AS {name}" for name, where in ORDER_TABS.items())
                + " FROM voucher v WHERE v.member = $1",
                principal.id,
            )
        )
        order = (
            "coalesce(v.redeemed_at, v.claimed_at) DESC"
            if tab in ("used", "to_rate")
            else "coalesce(v.cancelled_at, v.claimed_at) DESC"
            if tab == "refunds"
            else "v.claimed_at DESC"
        )
        rows = await connection.fetch(
            _VOUCHER_SQL + f"WHERE v.member = $1 AND {ORDER_TABS[tab]} ORDER BY {order}, v.id DESC LIMIT $2",
            principal.id,
            limit + len(rated) if tab == "to_rate" else limit,
        )
        if rated:
            counts["to_rate"] -= await connection.fetchval(
                "SELECT count(*) FROM voucher WHERE member = $1 AND status = 'redeemed' AND id = ANY($2::bigint[])",
                principal.id,
                list(rated),
            )
    vouchers = [_read(row) for row in rows]
    if tab == "to_rate":
        vouchers = [voucher for voucher in vouchers if voucher.id not in rated][:limit]
    return vouchers, counts


async def offer_titles(principal: Principal, voucher_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """The offer each of the member's vouchers is of, {voucher id: (title_zh, title_en)}:
    what points were spent on."""
    guards.require_member(principal)
    if not voucher_ids:
        return {}
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT v.id, o.title_zh, o.title_en FROM voucher v JOIN offer o ON o.id = v.offer "
            "WHERE v.member = $1 AND v.id = ANY($2::bigint[])",
            principal.id,
            voucher_ids,
        )
    return {row["id"]: (row["title_zh"], row["title_en"]) for row in rows}


async def ask_for_rating(member_id: int, voucher_id: int, event_id: int) -> None:
    """The survey invitation: one tap to the rating form of the voucher, naming its offer."""
    async with engine().transaction() as transaction:
        title = await transaction.connection.fetchval(
            "SELECT o.title_zh FROM voucher v JOIN offer o ON o.id = v.offer WHERE v.id = $1 AND v.member = $2",
            voucher_id,
            member_id,
        )
    await notifications.tell(
        notifications.Message(
            member_id,
            "rating_survey",
            {"offer": title} if title else {},
            link=f"/vouchers/{voucher_id}#rating",
            source_event=event_id,
        )
    )


async def my_voucher(principal: Principal, voucher_id: int) -> VoucherRead:
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            _VOUCHER_SQL + "WHERE v.id = $1 AND v.member = $2", voucher_id, principal.id
        )
    if row is None:
        raise NotFound("You have no such voucher.", code="voucher_not_found")
    return _read(row)


async def cancel(principal: Principal, voucher_id: int) -> VoucherRead:
    """Cancel an issued voucher of the member's: its stock, slot place, points and money return."""
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "UPDATE voucher SET status = 'cancelled', cancelled_at = now() "
            "WHERE id = $1 AND member = $2 AND status = 'issued' AND expires_at > now() AND disputed_at IS NULL "
            f"AND {_NOT_PREPAID} RETURNING paid_fen",
            voucher_id,
            principal.id,
        )
        if row is None:
            current = await my_voucher(principal, voucher_id)  # NotFound when not theirs
            if current.kind == "prepaid" and current.status == "issued":
                raise Conflict(
                    "A prepaid package is taken back from My packages, where its refund is worked out.",
                    code="prepaid_package",
                    status_now=current.status,
                )
            if current.disputed:  # the bank decides where the money goes; a refund now would pay twice
                raise Conflict(
                    "Your bank disputes this payment; the voucher waits for its decision.",
                    code="disputed",
                    status_now=current.status,
                )
            if current.status == "issued":  # its time is over; the expiry job has not run yet
                raise Conflict("This voucher has expired.", code="expired", status_now="expired")
            raise Conflict(
                "Only an issued voucher can be cancelled or redeemed.",
                code="not_issued",
                status_now=current.status,
            )
        await _cancelled(connection, voucher_id, row["paid_fen"])
    return await my_voucher(principal, voucher_id)


async def _cancelled(connection, voucher_id: int, paid_fen: int) -> None:
    """An issued voucher was just cancelled: what it took goes back, its money too (the
    payments domain refunds it)."""
    await release(connection, voucher_id)
    if paid_fen > 0:
        await outbox.publish(topics.PaidVoucherCancelled(voucher_id=voucher_id))


async def release(connection, voucher_id: int) -> None:
    """Give back what a voucher that just stopped counting took: its place in the limit,
    its slot place, its points and its stock (money is the payments domain's)."""
    row = await connection.fetchrow("SELECT member, offer, period_start, slot FROM voucher WHERE id = $1", voucher_id)
    await connection.execute(
        "UPDATE claim_count SET claims = claims - 1 WHERE member = $1 AND offer = $2 AND period_start = $3",
        row["member"],
        row["offer"],
        row["period_start"],
    )
    if row["slot"] is not None:
        await catalog.release_slot(connection, row["slot"])
    await campaigns.release_spend(connection, voucher_id)
    await points.refund_voucher(connection, voucher_id)
    await catalog.return_stock(connection, row["offer"])


async def rate(principal: Principal, voucher_id: int, data: RatingInput, client_address: str | None) -> RatingRead:
    """Rate a redeemed voucher of the member's: evaluation keeps the rating and watches for
    bursts (from one network, from new accounts)."""
    await my_voucher(principal, voucher_id)  # NotFound when not theirs
    return await ratings.rate(
        principal,
        voucher_id,
        data,
        client_address=client_address,
        member_since=await federation.member_joined_at(principal.id),
    )


def _no_show(voucher: VoucherRead) -> bool:
    """A paid booking whose time passed without the provider redeeming it."""
    return (
        voucher.kind == "slot"
        and voucher.paid_fen > 0
        and voucher.status in ("issued", "expired")
        and voucher.slot_ends_at is not None
        and voucher.slot_ends_at < datetime.now(UTC)
    )


def may_complain(voucher: VoucherRead) -> bool:
    """Whether evaluation's rules let the member complain about this voucher (apart from the
    one complaint per voucher and the weekly limit): used, or a paid booking not honoured."""
    return voucher.status == "redeemed" or _no_show(voucher)


async def complain(
    principal: Principal, voucher_id: int, data: ComplaintInput, photo: bytes | None = None
) -> ComplaintRead:
    """A complaint about a voucher of the member's to its provider: a redeemed one, or a
    paid booking whose time passed unredeemed (a no-show); evaluation/complaints/services.py rules.
    With an optional photo (checked and resized as offer pictures are)."""
    voucher = await my_voucher(principal, voucher_id)
    no_show = _no_show(voucher)
    # No picture is kept for a complaint that the rules refuse (a voucher not used).
    eligible = may_complain(voucher)
    name = await catalog.store_picture(photo, "complaints") if photo and eligible else None
    return await complaints.file(principal, voucher_id, voucher.provider_id, data, photo=name, no_show=no_show)


async def cancel_for_provider(provider_id: int) -> int:
    """Cancel every issued voucher of a provider (delisted with its vouchers cancelled, or closed):
    stock, slots, points and limits return and paid ones are refunded, as when a member
    cancels. A disputed one stays held; the dispute's end decides (`lift_dispute_hold`).
    Returns how many were cancelled."""
    async with engine().transaction() as transaction:
        ids = [
            row["id"]
            for row in await transaction.connection.fetch(
                f"SELECT id FROM voucher WHERE provider = $1 AND status = 'issued' AND {_NOT_PREPAID} ORDER BY id",
                provider_id,
            )
        ]
    cancelled = held = 0
    # One voucher per transaction, each taking its locks in a claim's order, so that claims,
    # cancellations and point expiries running meanwhile never deadlock with a long batch.
    for voucher_id in ids:
        async with engine().transaction() as transaction:
            connection = transaction.connection
            paid = await connection.fetchval(
                "UPDATE voucher SET status = 'cancelled', cancelled_at = now() "
                "WHERE id = $1 AND status = 'issued' AND disputed_at IS NULL RETURNING paid_fen",
                voucher_id,
            )
            if paid is not None:
                await _cancelled(connection, voucher_id, paid)
                cancelled += 1
            else:
                # Disputed: the bank's decision comes first (`lift_dispute_hold`).
                held += (
                    await connection.fetchval(
                        "UPDATE voucher SET cancel_after_dispute = true WHERE id = $1 AND status = 'issued' "
                        "AND disputed_at IS NOT NULL RETURNING 1",
                        voucher_id,
                    )
                    or 0
                )
    log.info("provider_vouchers_cancelled", provider_id=provider_id, count=cancelled, held_by_dispute=held)
    return cancelled


async def answer_honoured(principal: Principal, voucher_id: int, honoured: bool) -> VoucherRead:
    """The member's answer to "was the discount honoured?", for a redeemed voucher of theirs."""
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        updated = await transaction.connection.fetchval(
            "UPDATE voucher SET honoured = $3 WHERE id = $1 AND member = $2 AND status = 'redeemed' RETURNING id",
            voucher_id,
            principal.id,
            honoured,
        )
        if updated is not None:
            await outbox.publish(topics.VoucherHonoured(voucher_id=voucher_id, honoured=honoured))
    if updated is None:
        current = await my_voucher(principal, voucher_id)
        raise Conflict("Only a redeemed voucher can be rated.", code="not_redeemed", status_now=current.status)
    return await my_voucher(principal, voucher_id)


async def expire_vouchers() -> int:
    """Issued vouchers past their expiry become expired (the scheduler runs this); a disputed
    one's expiry is paused until the bank decides."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "UPDATE voucher SET status = 'expired' WHERE status = 'issued' AND expires_at <= now() "
            f"AND disputed_at IS NULL AND {_NOT_PREPAID} RETURNING id"
        )
    return len(rows)


async def remind_bookings(now: datetime | None = None) -> int:
    """The day before a booked slot (in Asia/Shanghai), its member is told once: what, when
    and where to show the code. Returns how many were told (the scheduler runs this hourly)."""
    now = now or datetime.now(UTC)
    tomorrow = dates.local(now).date() + timedelta(days=1)
    starts = datetime.combine(tomorrow, time(), tzinfo=dates.zone())
    async with engine().transaction() as transaction:
        connection = transaction.connection
        rows = await connection.fetch(
            "WITH due AS (UPDATE voucher v SET reminded_at = $1 FROM offer_slot s "
            "  WHERE s.id = v.slot AND v.status = 'issued' AND v.reminded_at IS NULL "
            "  AND s.starts_at >= $2 AND s.starts_at < $3 AND s.starts_at > $1 "
            "  RETURNING v.id, v.member, v.offer, s.starts_at, s.ends_at) "
            "SELECT due.*, o.title_zh FROM due JOIN offer o ON o.id = due.offer ORDER BY due.id",
            now,
            starts,
            starts + timedelta(days=1),
        )
        await notifications.add(
            connection,
            [
                notifications.Message(
                    row["member"],
                    "booking_reminder",
                    link=f"/vouchers/{row['id']}",
                    params={
                        "offer": row["title_zh"],
                        "time": f"{dates.local(row['starts_at']):%Y-%m-%d %H:%M}–{dates.local(row['ends_at']):%H:%M}",
                    },
                )
                for row in rows
            ],
        )
    return len(rows)


notifications.register(
    "booking_reminder",
    N_("Your booking is tomorrow"),
    N_("%(offer)s, %(time)s. Show the code of your voucher when you arrive."),
)


# At the counter --------------------------------------------------------------------------------


def _typed_code(text: str) -> str:
    try:
        code = codes.normalise(text)
    except ValueError:
        raise Invalid("A voucher code has 14 letters and digits.", code="malformed_code", field="code") from None
    if not codes.is_valid(code):
        raise Invalid("This code has a typo: please check it and type it again.", code="code_typo", field="code")
    return code


def _miss_keys(principal: Principal) -> tuple[str, str]:
    return f"counter:misses:staff:{principal.id}", f"counter:misses:provider:{principal.provider_id}"


async def _count_attempt(principal: Principal) -> None:
    """Count a look-up before it runs (so parallel guesses cannot slip past the limit);
    TooManyRequests when the staff account or the provider is over its limit."""
    try:
        staff, provider = await ratelimit.hit(*_miss_keys(principal), window_seconds=MISS_WINDOW_SECONDS)
    except RedisError:
        return  # throttling is a guard, not a dependency of the counter
    if provider == ALERT_MISSES:
        # Once per window: operators watch this event for code guessing at a provider.
        log.warning(
            "counter_code_guessing",
            provider_id=principal.provider_id,
            staff_id=principal.id,
            misses=provider,
            window_seconds=MISS_WINDOW_SECONDS,
        )
    if staff > STAFF_MISS_LIMIT or provider > PROVIDER_MISS_LIMIT:
        raise TooManyRequests(
            "Too many unknown codes were tried; wait a few minutes.",
            code="counter_throttled",
            retry_after=MISS_WINDOW_SECONDS,
        )


async def _forgive(principal: Principal) -> None:
    """A code that was found gives its attempt back: only misses count."""
    with contextlib.suppress(RedisError):
        await ratelimit.give_back(*_miss_keys(principal))


_COUNTER_COLUMNS = """
SELECT v.id, v.code, v.offer, v.member, v.status, v.expires_at, v.redeemed_at, o.title_zh, o.title_en, o.category,
       m.name, o.kind, v.paid_fen, v.points_spent, v.subsidy_fen, l.name AS location_name,
       u.display_name AS staff_name, v.disputed_at
FROM voucher v JOIN offer o ON o.id = v.offer JOIN member m ON m.id = v.member
LEFT JOIN location l ON l.id = v.redeemed_location LEFT JOIN provider_user u ON u.id = v.redeemed_by
"""
_COUNTER_SQL = _COUNTER_COLUMNS + "WHERE v.code = $1 AND v.provider = $2"
# Today's redemptions at the counter, newest first (one screen of them).
_TODAY_SQL = (
    _COUNTER_COLUMNS
    + """WHERE v.provider = $1 AND v.status = 'redeemed' AND v.redeemed_at >= $2
ORDER BY v.redeemed_at DESC, v.id DESC LIMIT $3"""
)
TODAY_LIMIT = 50


def _counter(row) -> CounterVoucher:
    return CounterVoucher(
        code_display=codes.display(row["code"]),
        offer_id=row["offer"],
        offer_title_zh=row["title_zh"],
        offer_title_en=row["title_en"],
        member_name=pii.mask_name(row["name"]),
        status=row["status"],
        expires_at=row["expires_at"],
        redeemed_at=row["redeemed_at"],
        kind=row["kind"],
        paid_fen=row["paid_fen"] or 0,
        points_spent=row["points_spent"] or 0,
        subsidy_fen=row["subsidy_fen"] or 0,
        redeemed_location=row["location_name"],
        redeemed_by=row["staff_name"],
        disputed=row["disputed_at"] is not None,
    )


def _already_redeemed(row) -> Conflict:
    """A second use, with where, when and by whom the first one was (the counter shows it in red)."""
    return Conflict(
        "This voucher was already redeemed at %(time)s.",
        params={"time": f"{row['redeemed_at'].astimezone(dates.zone()):%Y-%m-%d %H:%M}"},
        code="already_redeemed",
        field="code",
        redeemed_at=row["redeemed_at"],
        location=row["location_name"],
        staff=row["staff_name"],
    )


async def provider_voucher_facts(principal: Principal, voucher_ids: list[int]) -> dict[int, dict]:
    """What a complaint page says about each voucher complained about: the offer, the code
    masked and the day of the visit (redeemed, else the booked slot). A provider's users see
    their own vouchers; an operator, those of providers in their scope."""
    facts = (
        "SELECT v.id, v.code, v.redeemed_at, o.title_zh, o.title_en, s.starts_at AS slot_starts_at "
        "FROM voucher v JOIN offer o ON o.id = v.offer LEFT JOIN offer_slot s ON s.id = v.slot "
    )
    async with engine().transaction() as transaction:
        if principal is not None and principal.kind == "operator":
            rows = await transaction.connection.fetch(
                facts + "JOIN provider p ON p.id = v.provider JOIN union_node n ON n.id = p.node "
                "WHERE n.path LIKE $1 || '%' AND v.id = ANY($2::bigint[])",
                principal.node_path or "-",
                voucher_ids,
            )
        else:
            rows = await transaction.connection.fetch(
                facts + "WHERE v.provider = $1 AND v.id = ANY($2::bigint[])",
                guards.require_provider(principal),
                voucher_ids,
            )
    return {
        row["id"]: {
            "offer_title_zh": row["title_zh"],
            "offer_title_en": row["title_en"],
            "code": codes.masked(row["code"]),
            "visit": dates.day_text(row["redeemed_at"] or row["slot_starts_at"]),
        }
        for row in rows
    }


async def provider_activity(provider_id: int) -> dict:
    """The owner's overview: vouchers redeemed today and this month (Shanghai calendar), and
    this month's running settlement so far: the union's subsidies owed for them and what
    members paid online for them."""
    now = datetime.now(dates.zone())
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT count(*) FILTER (WHERE redeemed_at >= $2) AS today_n, count(*) AS month_n, "
            "coalesce(sum(subsidy_fen), 0) AS subsidy_fen, coalesce(sum(paid_fen), 0) AS paid_fen "
            "FROM voucher WHERE provider = $1 AND status = 'redeemed' AND redeemed_at >= $3",
            provider_id,
            midnight,
            midnight.replace(day=1),
        )
    return {
        "today_n": row["today_n"],
        "month_n": row["month_n"],
        "subsidy_fen": int(row["subsidy_fen"]),
        "paid_fen": int(row["paid_fen"]),
        "total_fen": int(row["subsidy_fen"]) + int(row["paid_fen"]),
    }


async def todays_redemptions(principal: Principal) -> list[CounterVoucher]:
    """The provider's vouchers redeemed since midnight in Shanghai, newest first."""
    provider_id = guards.require_provider(principal)
    midnight = datetime.now(dates.zone()).replace(hour=0, minute=0, second=0, microsecond=0)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(_TODAY_SQL, provider_id, midnight, TODAY_LIMIT)
    return [_counter(row) for row in rows]


async def _find_at_counter(principal: Principal, text: str):
    provider_id = guards.require_provider(principal)
    code = _typed_code(text)
    await _count_attempt(principal)
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(_COUNTER_SQL, code, provider_id)
    if row is None:
        raise NotFound("No voucher of yours has this code.", code="voucher_not_found")
    await _forgive(principal)
    return code, row


async def inspect(principal: Principal, text: str) -> CounterVoucher:
    """What the front desk checks before redeeming: the offer, the masked member, the state."""
    _, row = await _find_at_counter(principal, text)
    return _counter(row)


async def redeem(principal: Principal, text: str, location_id: int | None = None) -> CounterVoucher:
    """Redeem a voucher of this provider, exactly once."""
    code, row = await _find_at_counter(principal, text)
    provider_id = guards.require_provider(principal)
    if location_id is not None and location_id not in {
        location["id"] for location in await providers.list_locations(provider_id)
    }:
        raise Invalid("This location is not one of yours.", field="location_id")
    if row["kind"] == "prepaid":
        return await _use_session(principal, code, provider_id, location_id)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        redeemed = await connection.fetchval(
            "UPDATE voucher SET status = 'redeemed', redeemed_at = now(), redeemed_by = $3, redeemed_location = $4 "
            "WHERE code = $1 AND provider = $2 AND status = 'issued' AND expires_at > now() AND disputed_at IS NULL "
            "RETURNING id",
            code,
            provider_id,
            principal.id,
            location_id,
        )
        row = await connection.fetchrow(_COUNTER_SQL, code, provider_id)
        if redeemed is not None:  # the quality loop keeps its own record of redemptions
            await outbox.publish(
                topics.VoucherRedeemed(
                    voucher_id=row["id"],
                    provider_id=provider_id,
                    offer_id=row["offer"],
                    category_id=row["category"],
                    member_id=row["member"],
                    staff_id=principal.id,
                    location_id=location_id,
                    redeemed_at=row["redeemed_at"],
                )
            )
    if redeemed is None:
        if row["status"] == "redeemed":
            raise _already_redeemed(row)
        if row["status"] == "issued" and row["disputed_at"] is not None:
            raise Conflict(
                "The member's bank disputes the payment of this voucher; it cannot be used until the "
                "dispute is settled.",
                code="disputed",
                field="code",
                status_now="disputed",
            )
        if row["status"] == "issued":  # issued, but its time is over: the expiry job has not run yet
            raise Conflict("This voucher has expired.", code="expired", status_now="expired")
        raise Conflict(
            "Only an issued voucher can be cancelled or redeemed.", code="not_issued", status_now=row["status"]
        )
    log.info("voucher_redeemed", voucher_id=redeemed, provider_id=provider_id, staff_id=principal.id)
    return _counter(row)


async def _use_session(principal: Principal, code: str, provider_id: int, location_id: int | None) -> CounterVoucher:
    """One session of a prepaid package (marketplace/prepaid): its part of the escrow goes to
    the provider; the voucher stays issued until the last session, then is redeemed. The
    voucher's row lock orders concurrent scans of one package; the ledger refuses a session
    that is not left."""
    async with engine().transaction() as transaction:
        connection = transaction.connection
        voucher = await connection.fetchrow(
            "SELECT id, status, expires_at, disputed_at FROM voucher WHERE code = $1 AND provider = $2 FOR UPDATE",
            code,
            provider_id,
        )
        used = None
        if (
            voucher["status"] == "issued"
            and voucher["disputed_at"] is None
            and voucher["expires_at"] > datetime.now(UTC)
        ):
            used = await escrow.use_session(connection, voucher["id"], principal.id)
        if used is not None:
            # The voucher is redeemed with its last session (an issued one has no redeemed_at).
            await connection.execute(
                "UPDATE voucher SET redeemed_by = $2, redeemed_location = $3, "
                "status = CASE WHEN $4 THEN 'redeemed' ELSE status END, "
                "redeemed_at = CASE WHEN $4 THEN now() END WHERE id = $1",
                voucher["id"],
                principal.id,
                location_id,
                used["sessions_left"] == 0,
            )
            row = await connection.fetchrow(_COUNTER_SQL, code, provider_id)
            if used["session"] == 1:  # the quality loop hears of a class package's first session
                await outbox.publish(
                    topics.VoucherRedeemed(
                        voucher_id=row["id"],
                        provider_id=provider_id,
                        offer_id=row["offer"],
                        category_id=row["category"],
                        member_id=row["member"],
                        staff_id=principal.id,
                        location_id=location_id,
                        redeemed_at=row["redeemed_at"] or datetime.now(UTC),
                    )
                )
        else:
            row = await connection.fetchrow(_COUNTER_SQL, code, provider_id)
    if used is None:
        if row["status"] == "issued" and row["disputed_at"] is not None:
            raise Conflict(
                "The member's bank disputes the payment of this voucher; it cannot be used until the "
                "dispute is settled.",
                code="disputed",
                field="code",
                status_now="disputed",
            )
        if row["status"] == "issued" and row["expires_at"] <= datetime.now(UTC):
            raise Conflict("This voucher has expired.", code="expired", status_now="expired")
        raise Conflict(
            "This package has no sessions left.", code="no_sessions_left", field="code", status_now=row["status"]
        )
    log.info("package_session_used", voucher_id=row["id"], provider_id=provider_id, session=used["session"])
    return msgspec.structs.replace(_counter(row), sessions_left=used["sessions_left"], session=used["session"])


async def lock(connection, voucher_id: int) -> None:
    """Take the voucher's row lock first, in a claim's and the counter's order (voucher, then
    what hangs on it), so that a refund of a prepaid package never deadlocks with a scan."""
    await connection.execute("SELECT id FROM voucher WHERE id = $1 FOR UPDATE", voucher_id)


async def prepaid_refunded(connection, voucher_id: int, refunded_fen: int, *, used: bool) -> None:
    """What was left of a prepaid package went back (marketplace/prepaid), `refunded_fen` of the
    member's share in all. Never used: the voucher is refunded and what it took returns (stock,
    limit, the campaign's subsidy). Used in part: it stays as used (redeemed), the refund noted."""
    if not used:
        await money_returned(connection, voucher_id)
        return
    await connection.execute(
        "UPDATE voucher SET status = CASE WHEN status = 'issued' THEN 'redeemed' ELSE status END, "
        "redeemed_at = coalesce(redeemed_at, now()), refunded_fen = least($2, paid_fen) WHERE id = $1",
        voucher_id,
        refunded_fen,
    )


# Money changes the payments domain reports, in its transaction (`connection`) --------------------
# Payments owns the payment; the voucher's status, refunded share and dispute hold are this
# domain's, changed only here.


async def issue_paid(connection, voucher_id: int) -> bool:
    """The payment of a pending paid voucher succeeded: the voucher is issued."""
    return (
        await connection.fetchval(
            "UPDATE voucher SET status = 'issued' WHERE id = $1 AND status = 'pending' RETURNING id", voucher_id
        )
        is not None
    )


async def set_expiry(connection, voucher_id: int, expires_at: datetime) -> None:
    """A prepaid package's voucher lasts the package's months from its payment (marketplace/prepaid)."""
    await connection.execute("UPDATE voucher SET expires_at = $2 WHERE id = $1", voucher_id, expires_at)


async def cancel_pending(connection, voucher_id: int) -> bool:
    """A paid claim whose payment will not come (released, or its provider delisted): the
    voucher is cancelled and what it held returns. False when it was not pending."""
    cancelled = await connection.fetchval(
        "UPDATE voucher SET status = 'cancelled', cancelled_at = now() WHERE id = $1 AND status = 'pending' "
        "RETURNING id",
        voucher_id,
    )
    if cancelled is None:
        return False
    await release(connection, voucher_id)
    return True


async def money_returned(connection, voucher_id: int) -> str:
    """The member's whole payment went back. An issued voucher is refunded and what it held
    returns ("voucher_refunded"); a cancelled one (its own refund on the way) becomes
    refunded; a used one stays redeemed ("refunded_after_use": its share leaves the
    provider's settlement)."""
    await record_refund(connection, voucher_id, None)
    refunded = await connection.fetchval(
        "UPDATE voucher SET status = 'refunded', cancelled_at = now(), disputed_at = NULL "
        "WHERE id = $1 AND status = 'issued' RETURNING id",
        voucher_id,
    )
    if refunded is not None:
        await release(connection, voucher_id)
        return "voucher_refunded"
    await connection.execute(
        "UPDATE voucher SET status = 'refunded', disputed_at = NULL WHERE id = $1 AND status = 'cancelled'", voucher_id
    )
    return "refunded_after_use"


async def record_refund(connection, voucher_id: int, refunded_fen: int | None) -> None:
    """How much of the member's share went back so far (None: all of it); never more than was paid."""
    await connection.execute(
        "UPDATE voucher SET refunded_fen = least(coalesce($2, paid_fen), paid_fen) WHERE id = $1",
        voucher_id,
        refunded_fen,
    )


async def hold_for_dispute(connection, voucher_id: int) -> None:
    """The member's bank disputes the payment: the counter may not redeem the voucher, the
    member cancel it, nor the clock expire it, until the dispute is settled (`lift_dispute_hold`)."""
    await connection.execute("UPDATE voucher SET disputed_at = coalesce(disputed_at, now()) WHERE id = $1", voucher_id)


async def lift_dispute_hold(connection, voucher_id: int, *, lost: bool) -> str:
    """The bank decided. The paused expiry resumes: an issued voucher gets back the time it
    was held (to the end of that day). Won (`lost` false) by the provider: a voucher its
    delisting would have cancelled is cancelled and refunded now. Lost: the caller returns
    the money (`money_returned`), so nothing is cancelled here (that would refund twice).
    Safe to repeat. What was done: "lifted", "cancelled" or "not_held"."""
    row = await connection.fetchrow(
        "SELECT status, expires_at, disputed_at, cancel_after_dispute, paid_fen FROM voucher WHERE id = $1 FOR UPDATE",
        voucher_id,
    )
    if row is None or row["disputed_at"] is None:
        return "not_held"
    expires_at = row["expires_at"]
    if row["status"] == "issued":
        held = datetime.now(UTC) - row["disputed_at"]
        expires_at = dates.end_of_last_day(dates.shift(row["expires_at"], max(held, timedelta(0))))
    await connection.execute(
        "UPDATE voucher SET disputed_at = NULL, expires_at = $2 WHERE id = $1", voucher_id, expires_at
    )
    if not lost and row["status"] == "issued" and row["cancel_after_dispute"]:
        await connection.execute(
            "UPDATE voucher SET status = 'cancelled', cancelled_at = now() WHERE id = $1", voucher_id
        )
        await _cancelled(connection, voucher_id, row["paid_fen"])
        return "cancelled"
    return "lifted"


# Words of the messages that vouchers/actors.py sends for evaluation's events; registered here, where
# the web process (the inbox page) imports them too.
notifications.register(
    "rating_survey", N_("How was your visit?"), N_("Rate %(offer)s: it takes one tap and helps other members.")
)
notifications.register(
    "complaint_answered",
    N_("%(provider)s answered your complaint"),
    N_("Tap to read the answer. If it does not settle the matter, the union follows it up."),
)
notifications.register(
    "complaint_closed",
    N_("Your complaint is resolved"),
    N_("The union closed your complaint about %(provider)s. Tap to read the resolution."),
)
