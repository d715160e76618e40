"""Prepaid Guard: buying a prepaid package, taking it back, refunds, and the balances members,
providers and operators see. The ledger itself is escrow.py.

- `purchase`: the one way to buy a package: the existing paid path (marketplace/payments:
  a pending voucher holding the stock, a Stripe PaymentIntent for the member's share); when
  the payment succeeds, payments holds the money in escrow (escrow.hold).
- Sessions are used at the counter (marketplace/vouchers' redeem calls escrow.use_session):
  each releases its part to the provider's settlement. A period membership releases its
  months through the periodic `release_memberships`.
- `take_back`: within COOLING_OFF_DAYS of buying, with nothing used, one button refunds
  everything. `refund_provider`: a delisted or closed (关闭/停业) provider's packages are
  refunded, every unused balance, automatically; the member is told in the inbox. `refund_expired`: a package whose
  time ran out with sessions left gets them back (no "expires, no refund").
- A refund, in one transaction: the ledger's refund entry, the payment's refunded amount
  (before Stripe is called, so Stripe's webhook finds it done), the voucher's state, the
  subsidy's return to its campaign, the member's message. Then, outside it, the member's
  share goes back through Stripe (`send_refund`, once per refund: Stripe's idempotency key);
  a refund Stripe could not take is sent again by `send_unsent_refunds`.
"""

import asyncio
from datetime import UTC, datetime, timedelta

import stripe
import structlog

from evaluation.enforcement import freeze, prepaid_rules
from marketplace.campaigns import services as campaigns
from marketplace.core import dates, db, money, notifications, personal_data
from marketplace.core.audit import services as audit
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid, NotFound
from marketplace.core.federation.services import require_current_member
from marketplace.core.idempotency import services as idempotency_keys
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from marketplace.core.web.nav import N_
from marketplace.payments import services as payments
from marketplace.payments.schemas import PaymentRead
from marketplace.prepaid import escrow
from marketplace.vouchers import services as vouchers

log = structlog.get_logger(__name__)

COOLING_OFF_DAYS = escrow.COOLING_OFF_DAYS
OWN_REFUND_KEY = "prepaid-refund-"  # the idempotency keys (and metadata) of the part refunds send_refund makes

personal_data.keeps(
    "prepaid_package", why="money held in escrow, released and refunded: the accounts keep what was paid and returned"
)
notifications.register(
    "prepaid_sales_frozen",
    N_("Sales of %(provider)s's packages are paused"),
    N_(
        "To protect members' money, the union has paused new sales of %(provider)s's prepaid packages. "
        "Your package %(offer)s is not affected: keep using its sessions as before. "
        "If the provider closes, what is left comes back to you automatically."
    ),
)

# One message a reason: the inbox fills the words from params, which are not translated.
for _reason, _text in {
    "cooling_off": N_(
        "%(amount)s of %(offer)s went back to your card: you took it back within the cooling-off days. "
        "Your bank shows it within %(days)s working days."
    ),
    "delisted": N_(
        "%(amount)s of %(offer)s went back to your card: the provider was delisted, so the unused part is "
        "refunded. Your bank shows it within %(days)s working days."
    ),
    "closed": N_(
        "%(amount)s of %(offer)s went back to your card: the provider closed its business, so the unused part "
        "is refunded. Your bank shows it within %(days)s working days."
    ),
    "unused": N_(
        "%(amount)s of %(offer)s went back to your card for the unused sessions. Your bank shows it within "
        "%(days)s working days."
    ),
    "expired": N_(
        "%(amount)s of %(offer)s went back to your card: the package ended with sessions left. Your bank shows "
        "it within %(days)s working days."
    ),
}.items():
    notifications.register(f"prepaid_refunded_{_reason}", N_("Your package was refunded"), _text)
REASONS = {
    "cooling_off": N_("taken back within the cooling-off days"),
    "delisted": N_("the provider was delisted"),
    "closed": N_("the provider closed its business"),
    "stripe": N_("refunded by the union's finance team"),
    "unused": N_("unused sessions"),
    "expired": N_("sessions left when the package ended"),
}


# Buying -------------------------------------------------------------------------------------------


async def purchase(principal: Principal, offer_id: int, idempotency_key: str | None = None) -> PaymentRead:
    """Buy a prepaid package: the pending voucher and its payment (one short transaction, once
    per idempotency key), then the PaymentIntent outside it. The member pays on the payment page;
    the money is held in escrow when the payment succeeds."""
    guards.require_member(principal)
    require_current_member(principal)
    payment = await idempotency_keys.run_once(
        principal,
        idempotency_key,
        f"prepaid:{offer_id}",
        None,
        lambda: payments.reserve(
            principal,
            offer_id,
            kinds=("prepaid",),
            check=lambda connection, offer, amount: may_buy(connection, principal, offer, amount),
        ),
        PaymentRead,
    )
    return await payments.open_intent(principal, payment.id)


async def may_buy(connection, principal: Principal, offer: dict, amount_fen: int) -> None:
    """The policy's refusals of a purchase, in its transaction: the provider's sales stopped
    (Prepaid Guard's freeze: holders keep their packages, no one buys a new one), the member's
    prepaid total over the cap (what is left of their packages, and payments under way), the
    provider's unused balances over its cap (when the policy sets one). The member's lock
    serialises their purchases; the freeze's shared lock orders this against a freeze."""
    provider_id = offer["provider"]
    frozen = await freeze.sales_frozen(provider_id, connection)
    if frozen is not None:
        raise Conflict(
            "This provider cannot sell prepaid packages for now, to protect members' money. "
            "Packages already bought can still be used as usual.",
            code="sales_frozen",
            reason=frozen.reason,
        )
    rules = await prepaid_rules.prepaid_rules_of_provider(connection, provider_id)
    await connection.execute(
        "SELECT pg_advisory_xact_lock(hashtext('prepaid_member'), ($1 % 2147483647)::int)", principal.id
    )
    held = await connection.fetchval(
        "SELECT (SELECT coalesce(sum(left_member_fen), 0) FROM prepaid_package WHERE member = $1 AND status = 'active') "
        "+ (SELECT coalesce(sum(pay.amount_fen), 0) FROM payment pay JOIN voucher v ON v.id = pay.voucher "
        "   JOIN offer o ON o.id = v.offer WHERE pay.member = $1 AND pay.status = 'pending' AND o.kind = 'prepaid')",
        principal.id,
    )
    if held + amount_fen > rules["member_total_max_fen"]:
        raise Conflict(
            "A member may hold at most %(cap)s in prepaid packages; you hold %(held)s and this one costs %(price)s.",
            code="prepaid_member_cap",
            params={
                "cap": money.yuan(rules["member_total_max_fen"]),
                "held": money.yuan(held),
                "price": money.yuan(amount_fen),
            },
        )
    cap = rules["provider_outstanding_max_fen"]
    if cap is not None:
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('prepaid_provider'), $1)", provider_id)
        outstanding = await connection.fetchval(
            "SELECT coalesce(sum(left_member_fen + left_subsidy_fen), 0) FROM prepaid_package "
            "WHERE provider = $1 AND status = 'active'",
            provider_id,
        )
        if outstanding + amount_fen + (offer.get("subsidy_fen") or 0) > cap:
            raise Conflict(
                "This provider already holds as much prepaid money as the union allows; try again later.",
                code="prepaid_provider_cap",
            )


async def tell_holders_frozen(provider_id: int, event_id: int | None = None) -> int:
    """Prepaid Guard stopped the provider's sales: each member holding an active package of it
    gets an inbox message (once per freeze event, safe to repeat); how many were told."""
    async with engine().transaction() as transaction:
        connection = transaction.connection
        rows = await connection.fetch(
            "SELECT DISTINCT ON (p.member) p.member, o.title_zh, pr.name FROM prepaid_package p "
            "JOIN offer o ON o.id = p.offer JOIN provider pr ON pr.id = p.provider "
            "WHERE p.provider = $1 AND p.status = 'active' AND ($2::bigint IS NULL OR NOT EXISTS ("
            "  SELECT 1 FROM notification n WHERE n.member = p.member AND n.kind = 'prepaid_sales_frozen' "
            "  AND n.source_event = $2)) ORDER BY p.member, p.id",
            provider_id,
            event_id,
        )
        await notifications.add(
            connection,
            [
                notifications.Message(
                    row["member"],
                    "prepaid_sales_frozen",
                    {"provider": row["name"], "offer": row["title_zh"]},
                    link="/packages",
                    source_event=event_id,
                )
                for row in rows
            ],
        )
    log.info("prepaid_holders_told_frozen", provider_id=provider_id, members=len(rows))
    return len(rows)


# Refunds ------------------------------------------------------------------------------------------


async def _refund(connection, package_id: int, reason: str) -> dict | None:
    """The refund of what is left of a package, in the caller's transaction (see the module)."""
    voucher_id = await connection.fetchval("SELECT voucher FROM prepaid_package WHERE id = $1", package_id)
    if voucher_id is None:
        return None
    await vouchers.lock(connection, voucher_id)  # the counter's lock order: voucher, then package
    refund = await escrow.refund_left(connection, package_id, reason)
    if refund is None:
        return None
    member_fen, subsidy_fen = refund["refund_member_fen"], refund["refund_subsidy_fen"]
    to_member = refund["subsidy_to_member_fen"]  # the policy gave the member the unused subsidy too
    back = member_fen + to_member
    used = refund["sessions_used"] > 0 or refund["months_released"] > 0
    refunded_total = refund["member_fen"] - refund["left_member_fen"] + back
    if back > 0:
        refunded_total = await payments.owe_refund(connection, refund["payment"], back)
    await vouchers.prepaid_refunded(connection, refund["voucher"], refunded_total, used=used)
    if used and subsidy_fen - to_member > 0:  # unused: the voucher's release gave the whole subsidy back
        await campaigns.return_part(connection, refund["voucher"], subsidy_fen - to_member)
    title = await connection.fetchval("SELECT title_zh FROM offer WHERE id = $1", refund["offer"])
    await notifications.add(
        connection,
        [
            notifications.Message(
                refund["member"],
                f"prepaid_refunded_{reason}",
                {"amount": money.yuan(back), "offer": title, "days": payments.REFUND_WORKING_DAYS},
                link="/packages",
            )
        ],
    )
    return refund


async def send_refund(refund_id: int, *, look_first: bool = False) -> bool:
    """Send a refund's member share through Stripe, once; True when it is (or was) sent.

    `look_first` (a refund sent again: Stripe may have taken it before the process that sent
    it died, unrecorded): Stripe's refunds of the payment are looked through for this one's
    key first. The idempotency key alone does not do: Stripe forgets keys after 24 hours."""
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT r.id, r.member_fen + r.subsidy_to_member_fen AS back_fen, r.sent_at, p.payment FROM prepaid_refund r "
            "JOIN prepaid_package p ON p.id = r.package WHERE r.id = $1",
            refund_id,
        )
    if row is None:
        return False
    if row["sent_at"] is not None:
        return True
    stripe_id = None
    key = f"{OWN_REFUND_KEY}{refund_id}"
    if look_first and row["back_fen"] > 0:
        try:
            taken = [r["id"] for r in await payments.refunds_in_stripe(row["payment"]) if r["key"] == key]
        except stripe.StripeError as error:
            log.warning("prepaid_refund_not_sent", refund_id=refund_id, error=type(error).__name__)
            return False
        stripe_id = taken[0] if taken else None
    if row["back_fen"] > 0 and stripe_id is None:
        try:
            stripe_id = await payments.send_part_refund(row["payment"], row["back_fen"], key)
        except stripe.StripeError as error:
            log.warning("prepaid_refund_not_sent", refund_id=refund_id, error=type(error).__name__)
            return False
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "UPDATE prepaid_refund SET stripe_refund_id = $2, sent_at = now() WHERE id = $1 AND sent_at IS NULL",
            refund_id,
            stripe_id,
        )
    return True


async def refund_package(package_id: int, reason: str) -> dict | None:
    """Refund what is left of one package and send it; None when nothing was left."""
    async with engine().transaction() as transaction:
        refund = await _refund(transaction.connection, package_id, reason)
    if refund is None:
        return None
    await send_refund(refund["refund_id"])
    log.info(
        "prepaid_refunded",
        package_id=package_id,
        reason=reason,
        member_fen=refund["refund_member_fen"],
        subsidy_fen=refund["refund_subsidy_fen"],
    )
    return refund


async def take_back(principal: Principal, package_id: int) -> dict:
    """The member takes a package back within the cooling-off days, nothing used: all of it."""
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await escrow.package(connection, package_id)
        if row is not None:  # the counter's lock order: voucher, then package
            await vouchers.lock(connection, row["voucher"])
            row = await escrow.package(connection, package_id, lock=True)
        if row is None or row["member"] != principal.id:
            raise NotFound("You have no such package.", code="package_not_found")
        if not escrow.in_cooling_off(row):
            raise Conflict(
                "This package can no longer be taken back: %(days)s days have passed since you bought it, "
                "or a session was used.",
                params={"days": escrow.cooling_off_days(row)},
                code="cooling_off_over",
            )
        refund = await _refund(connection, package_id, "cooling_off")
    assert refund is not None  # the row lock and the check above make it so
    await send_refund(refund["refund_id"])
    return refund


# Packages of one provider refunded at once: each holds a pooled connection for its short
# transaction and then waits on Stripe, so a few in flight hide Stripe's latency; kept below
# the pool's size (DATABASE_POOL_MAX, 10 by default) so the worker's other jobs get one too.
REFUND_CONCURRENCY = 6


async def refund_provider(provider_id: int, reason: str = "delisted", concurrency: int = REFUND_CONCURRENCY) -> int:
    """Every active package of a delisted or closed provider (`reason`), each refunded in a
    transaction of its own (so that counter scans running meanwhile wait for one package
    only), up to `concurrency` at once; how many. Safe to repeat, and to kill at any moment:
    a package is refunded once (its row lock and status), its member share sent once
    (Stripe's idempotency key per refund), and a refund committed but not yet sent when the
    run died is sent by the next run (and by the periodic `send_unsent_refunds`)."""
    async with engine().transaction() as transaction:
        ids = [
            row["id"]
            for row in await transaction.connection.fetch(
                "SELECT id FROM prepaid_package WHERE provider = $1 AND status = 'active' ORDER BY id", provider_id
            )
        ]
    gate = asyncio.Semaphore(max(concurrency, 1))

    async def one(package_id: int) -> bool:
        async with gate:
            return await refund_package(package_id, reason) is not None

    refunded = sum(await asyncio.gather(*(one(package_id) for package_id in ids)))
    resent = await send_unsent_refunds(provider_id=provider_id)
    log.info("prepaid_provider_refunded", provider_id=provider_id, count=refunded, resent=resent)
    return refunded


# Refunds made by hand in Stripe ------------------------------------------------------------------

notifications.register(
    "prepaid_refunded_in_stripe",
    N_("Your package was refunded"),
    N_(
        "%(amount)s of %(offer)s went back to your card. My packages shows what your package has left. "
        "Your bank shows it within %(days)s working days."
    ),
)


async def follow_stripe_refunds(payment_id: int) -> int:
    """Refunds made by hand in Stripe on a package's payment (payments publishes
    payment.prepaid_refunded_in_stripe): each, once, comes off the escrow (escrow.take_outside),
    is recorded on the payment and the voucher, the subsidy of the steps it cancelled goes back
    to its funder, and the member is told; what the escrow could not cover stays on the
    console's escrow page for operators. Safe to repeat; how many refunds were new."""
    followed = 0
    for refund in await payments.refunds_in_stripe(payment_id):
        if refund["status"] == "succeeded" and not refund["key"].startswith(OWN_REFUND_KEY):
            followed += await _follow_stripe_refund(payment_id, refund["id"], refund["amount"])
    return followed


async def _follow_stripe_refund(payment_id: int, stripe_refund_id: str, amount_fen: int) -> bool:
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "SELECT p.id, p.voucher, p.member, o.title_zh FROM prepaid_package p JOIN offer o ON o.id = p.offer "
            "WHERE p.payment = $1",
            payment_id,
        )
        if row is None or amount_fen <= 0:
            return False
        await vouchers.lock(connection, row["voucher"])  # the counter's lock order: voucher, then package
        outside_id = await connection.fetchval(
            "INSERT INTO prepaid_outside_refund (package, stripe_refund_id, amount_fen, uncovered_fen, created_at) "
            "VALUES ($1, $2, $3, $3, now()) ON CONFLICT (stripe_refund_id) DO NOTHING RETURNING id",
            row["id"],
            stripe_refund_id,
            amount_fen,
        )
        if outside_id is None:
            return False  # followed already
        taken = await escrow.take_outside(connection, row["id"], amount_fen, f"outside:{outside_id}")
        await connection.execute(
            "UPDATE prepaid_outside_refund SET covered_member_fen = $2, covered_subsidy_fen = $3, "
            "uncovered_fen = $4, entry = $5 WHERE id = $1",
            outside_id,
            taken["member"],
            taken["subsidy"],
            amount_fen - taken["member"],
            taken["entry"],
        )
        refunded_total = await payments.owe_refund(connection, payment_id, amount_fen)  # Stripe sent it already
        if taken["ended"]:
            await vouchers.prepaid_refunded(connection, row["voucher"], refunded_total, used=taken["used"])
        else:
            await vouchers.record_refund(connection, row["voucher"], refunded_total)
        if (taken["used"] or not taken["ended"]) and taken["subsidy"] > 0:
            await campaigns.return_part(connection, row["voucher"], taken["subsidy"])
        await notifications.add(
            connection,
            [
                notifications.Message(
                    row["member"],
                    "prepaid_refunded_in_stripe",
                    {
                        "amount": money.yuan(amount_fen),
                        "offer": row["title_zh"],
                        "days": payments.REFUND_WORKING_DAYS,
                    },
                    link="/packages",
                )
            ],
        )
    log.warning(
        "prepaid_refund_made_in_stripe",
        payment_id=payment_id,
        package_id=row["id"],
        amount_fen=amount_fen,
        covered_fen=taken["member"],
        uncovered_fen=amount_fen - taken["member"],
    )
    return True


NOTE_LENGTH = (10, 2000)


async def _uncovered(connection, principal: Principal, outside_id: int, *, lock: bool = False) -> dict:
    """A refund made in Stripe whose uncovered part is still to resolve, in the operator's
    scope: another scope's is not found, as a missing one."""
    guards.require_operator(principal)
    row = await connection.fetchrow(
        "SELECT x.id, x.amount_fen, x.uncovered_fen, x.created_at, x.resolved_at, x.stripe_refund_id, "
        "pr.id AS provider_id, pr.name AS provider_name, o.title_zh, o.title_en, n.path "
        "FROM prepaid_outside_refund x JOIN prepaid_package p ON p.id = x.package "
        "JOIN provider pr ON pr.id = p.provider JOIN offer o ON o.id = p.offer JOIN union_node n ON n.id = pr.node "
        "WHERE x.id = $1" + (" FOR UPDATE OF x" if lock else ""),
        outside_id,
    )
    if row is None or not principal.covers(row["path"]):
        raise NotFound("No such refund in your scope.", code="outside_refund_not_found")
    if row["uncovered_fen"] <= 0:
        raise Conflict("The escrow covered this refund: there is nothing to resolve.", code="nothing_uncovered")
    if row["resolved_at"] is not None:
        raise Conflict("This refund has already been marked as resolved.", code="already_resolved")
    return dict(row)


async def uncovered_refund(principal: Principal, outside_id: int) -> dict:
    """The refund an operator is about to mark as resolved (for the confirmation)."""
    async with engine().transaction() as transaction:
        return await _uncovered(transaction.connection, principal, outside_id)


async def resolve_uncovered(principal: Principal, outside_id: int, note: str) -> dict:
    """An operator marks what the escrow could not cover of a refund made in Stripe as
    resolved (recovered from the provider, or booked as the union's loss, outside the
    platform), with a note of 10 to 2,000 characters: audited, once."""
    guards.require_operator(principal)
    note = (note or "").strip()
    if not NOTE_LENGTH[0] <= len(note) <= NOTE_LENGTH[1]:
        raise Invalid("Explain what was done in 10 to 2,000 characters.", field="note")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await _uncovered(connection, principal, outside_id, lock=True)
        resolved = await connection.fetchrow(
            "UPDATE prepaid_outside_refund SET resolved_at = now(), resolved_by = $2, resolution_note = $3 "
            "WHERE id = $1 RETURNING id, resolved_at, resolved_by, resolution_note",
            outside_id,
            principal.id,
            note,
        )
        await audit.record(
            connection,
            principal,
            "prepaid.uncovered_resolved",
            "prepaid_outside_refund",
            outside_id,
            note,
            {"provider_id": row["provider_id"], "uncovered_fen": row["uncovered_fen"]},
        )
    log.info("prepaid_uncovered_resolved", outside_id=outside_id, operator_id=principal.id)
    return dict(resolved)


async def refund_expired(now: datetime | None = None, limit: int = 500) -> int:
    """Packages whose time ran out with money left: what is left goes back (periodic)."""
    now = now or datetime.now(UTC)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT id, release FROM prepaid_package WHERE status = 'active' AND expires_at <= $1 "
            "ORDER BY expires_at LIMIT $2",
            now,
            limit,
        )
    done = 0
    for row in rows:
        if row["release"] == escrow.MONTHLY:  # its months are released first
            async with engine().transaction() as transaction:
                await escrow.release_months(transaction.connection, row["id"], now)
        done += await refund_package(row["id"], "expired") is not None
    return done


async def release_memberships(now: datetime | None = None) -> int:
    """Packages released monthly (memberships, and class packages sold under a monthly policy):
    the months that have passed, released pro rata (periodic); fen released."""
    now = now or datetime.now(UTC)
    async with engine().transaction() as transaction:
        ids = [
            row["id"]
            for row in await transaction.connection.fetch(
                "SELECT id FROM prepaid_package WHERE status = 'active' AND release = 'monthly' ORDER BY id"
            )
        ]
    released = 0
    for package_id in ids:
        async with engine().transaction() as transaction:
            released += await escrow.release_months(transaction.connection, package_id, now)
    return released


async def send_unsent_refunds(limit: int = 500, provider_id: int | None = None) -> int:
    """Refunds Stripe could not take when they were made (or whose run died before sending
    them), sent again (periodic; and by `refund_provider` for its provider)."""
    async with engine().transaction() as transaction:
        ids = [
            row["id"]
            for row in await transaction.connection.fetch(
                "SELECT r.id FROM prepaid_refund r JOIN prepaid_package p ON p.id = r.package "
                "WHERE r.sent_at IS NULL AND ($2::int IS NULL OR p.provider = $2) ORDER BY r.created_at LIMIT $1",
                limit,
                provider_id,
            )
        ]
    return sum([await send_refund(refund_id, look_first=True) for refund_id in ids])


# What members, providers and operators see ----------------------------------------------------------

_MINE_SQL = f"""
SELECT {escrow.PACKAGE_COLUMNS}, o.title_zh, o.title_en, pr.name AS provider_name, v.code,
       coalesce(r.reason, CASE WHEN x.amount_fen > 0 THEN 'stripe' END) AS refund_reason,
       coalesce(r.member_fen + r.subsidy_to_member_fen, 0) + coalesce(x.amount_fen, 0) AS refunded_member_fen,
       coalesce(r.created_at, x.created_at) AS refunded_at, r.sent_at
FROM prepaid_package p JOIN offer o ON o.id = p.offer JOIN provider pr ON pr.id = p.provider
JOIN voucher v ON v.id = p.voucher LEFT JOIN prepaid_refund r ON r.package = p.id
LEFT JOIN LATERAL (SELECT sum(o.amount_fen) AS amount_fen, max(o.created_at) AS created_at
                   FROM prepaid_outside_refund o WHERE o.package = p.id) x ON true
"""


def _package_view(row, now: datetime) -> dict:
    view = dict(row)
    cancelled = row["cancelled"] if row["release"] == escrow.PER_SESSION else 0
    view["sessions_left"] = (
        row["sessions_total"] - cancelled - row["sessions_used"] if row["sessions_total"] is not None else None
    )
    view["months_left"] = (
        row["months"] - row["months_released"] - (row["cancelled"] if row["release"] == escrow.MONTHLY else 0)
    )
    view["cooling_off"] = escrow.in_cooling_off(view, now)
    view["cooling_off_days"] = escrow.cooling_off_days(view)
    view["cooling_off_until"] = row["created_at"] + timedelta(days=view["cooling_off_days"])
    view["left_fen"] = row["left_member_fen"] + row["left_subsidy_fen"]
    return view


async def my_packages(principal: Principal) -> list[dict]:
    """The member's packages, newest first: sessions left, expiry, cooling-off, refund."""
    guards.require_member(principal)
    now = datetime.now(UTC)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _MINE_SQL + "WHERE p.member = $1 ORDER BY p.id DESC LIMIT 200", principal.id
        )
    return [_package_view(row, now) for row in rows]


async def history(principal: Principal, package_id: int) -> list[dict]:
    """A package's ledger as its member reads it (each use, release and refund)."""
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT e.kind, e.ref, e.member_fen, e.subsidy_fen, e.reason, e.created_at FROM prepaid_entry e "
            "JOIN prepaid_package p ON p.id = e.package WHERE e.package = $1 AND p.member = $2 ORDER BY e.id",
            package_id,
            principal.id,
        )
    return [dict(row) for row in rows]


async def histories(principal: Principal, package_ids: list[int]) -> dict[int, list[dict]]:
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT e.package, e.kind, e.ref, e.member_fen, e.subsidy_fen, e.reason, e.created_at "
            "FROM prepaid_entry e JOIN prepaid_package p ON p.id = e.package "
            "WHERE e.package = ANY($1::bigint[]) AND p.member = $2 ORDER BY e.id",
            package_ids,
            principal.id,
        )
    found: dict[int, list[dict]] = {}
    for row in rows:
        found.setdefault(row["package"], []).append(dict(row))
    return found


_TOTALS = """
coalesce(sum(e.member_fen + e.subsidy_fen) FILTER (WHERE e.kind = 'hold'), 0) AS held_fen,
coalesce(sum(e.member_fen + e.subsidy_fen) FILTER (WHERE e.kind = 'release'), 0) AS released_fen,
coalesce(sum(e.member_fen + e.subsidy_fen) FILTER (WHERE e.kind = 'refund'), 0) AS refunded_fen,
coalesce(sum(e.member_fen) FILTER (WHERE e.kind = 'refund'), 0) AS refunded_member_fen,
coalesce(sum(e.subsidy_fen) FILTER (WHERE e.kind = 'refund'), 0) AS refunded_subsidy_fen,
count(DISTINCT e.package) FILTER (WHERE e.kind = 'refund') AS refunds
"""


def _with_left(row) -> dict:
    view = dict(row)
    view["left_fen"] = view["held_fen"] - view["released_fen"] - view["refunded_fen"]
    return view


async def provider_balances(principal: Principal) -> dict:
    """The provider's escrow: held, released, refunded, left (still to come), and what comes next."""
    provider_id = guards.require_provider(principal)
    month_start = datetime.now(dates.zone()).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        totals = await connection.fetchrow(f"SELECT {_TOTALS} FROM prepaid_entry e WHERE e.provider = $1", provider_id)
        month = await connection.fetchval(
            "SELECT coalesce(sum(member_fen + subsidy_fen), 0) FROM prepaid_entry WHERE provider = $1 "
            "AND kind = 'release' AND created_at >= $2",
            provider_id,
            month_start,
        )
        packages = await connection.fetch(
            f"SELECT {escrow.PACKAGE_COLUMNS}, o.title_zh, o.title_en, v.code FROM prepaid_package p "
            "JOIN offer o ON o.id = p.offer JOIN voucher v ON v.id = p.voucher "
            "WHERE p.provider = $1 AND p.status = 'active' ORDER BY p.expires_at, p.id LIMIT 200",
            provider_id,
        )
    upcoming = []
    for row in packages:
        view = dict(row)
        if row["release"] == escrow.PER_SESSION:
            step = row["sessions_used"] + 1
            view["next_fen"] = escrow.part(row["member_fen"], row["sessions_total"], step) + escrow.part(
                row["subsidy_fen"], row["sessions_total"], step
            )
            view["sessions_left"] = row["sessions_total"] - row["sessions_used"]
        else:
            step = row["months_released"] + 1
            view["next_fen"] = escrow.part(row["member_fen"], row["months"], step) + escrow.part(
                row["subsidy_fen"], row["months"], step
            )
            view["sessions_left"] = (
                row["sessions_total"] - row["sessions_used"] if row["sessions_total"] is not None else None
            )
        view["left_fen"] = row["left_member_fen"] + row["left_subsidy_fen"]
        upcoming.append(view)
    return {"totals": _with_left(totals), "released_this_month_fen": int(month), "packages": upcoming}


async def _open_uncovered(connection, scope: str):
    """How many refunds made in Stripe still have an uncovered part to resolve, and how much,
    among the providers hung in the subtree `scope` (a node path)."""
    return await connection.fetchrow(
        "SELECT count(*) AS n, coalesce(sum(x.uncovered_fen), 0) AS fen FROM prepaid_outside_refund x "
        "JOIN prepaid_package p ON p.id = x.package JOIN provider pr ON pr.id = p.provider "
        "JOIN union_node pn ON pn.id = pr.node WHERE pn.path LIKE $1 || '%' AND x.uncovered_fen > 0 "
        "AND x.resolved_at IS NULL",
        scope,
    )


async def count_uncovered(principal: Principal) -> int:
    """The console's to-do: refunds made in Stripe whose uncovered part is still to resolve,
    in the operator's scope (what the escrow page's alert counts)."""
    guards.require_operator(principal)
    async with db.connection() as connection:  # one read, on every console page: no transaction
        return int((await _open_uncovered(connection, principal.node_path or "-"))["n"])


async def operator_overview(principal: Principal) -> dict:
    """Escrow held per provider and per funding node in the operator's scope, and refunds made."""
    guards.require_operator(principal)
    scope = principal.node_path or "-"
    async with engine().transaction() as transaction:
        connection = transaction.connection
        providers = await connection.fetch(
            f"SELECT pr.id, pr.name, pr.status, count(DISTINCT e.package) FILTER (WHERE e.kind = 'hold') AS packages, "
            f"{_TOTALS} FROM prepaid_entry e JOIN provider pr ON pr.id = e.provider "
            "JOIN union_node n ON n.id = pr.node WHERE n.path LIKE $1 || '%' GROUP BY pr.id ORDER BY pr.name",
            scope,
        )
        nodes = await connection.fetch(
            f"SELECT n.id, n.name_zh, n.name_en, {_TOTALS} FROM prepaid_entry e "
            "JOIN prepaid_package p ON p.id = e.package JOIN union_node n ON n.id = p.funding_node "
            "WHERE n.path LIKE $1 || '%' GROUP BY n.id ORDER BY n.path",
            scope,
        )
        refunds = await connection.fetch(
            "SELECT r.id, r.reason, r.member_fen + r.subsidy_to_member_fen AS member_fen, "
            "r.subsidy_fen - r.subsidy_to_member_fen AS subsidy_fen, r.created_at, r.sent_at, pr.name AS provider_name, "
            "o.title_zh, o.title_en, n.name_zh AS node_zh, n.name_en AS node_en FROM prepaid_refund r "
            "JOIN prepaid_package p ON p.id = r.package JOIN provider pr ON pr.id = p.provider "
            "JOIN offer o ON o.id = p.offer JOIN union_node n ON n.id = r.funding_node "
            "JOIN union_node pn ON pn.id = pr.node WHERE pn.path LIKE $1 || '%' ORDER BY r.id DESC LIMIT 100",
            scope,
        )
        outside = await connection.fetch(
            "SELECT x.id, x.amount_fen, x.covered_member_fen, x.uncovered_fen, x.created_at, x.stripe_refund_id, "
            "x.resolved_at, x.resolution_note, op.display_name AS resolved_by_name, "
            "pr.id AS provider_id, pr.name AS provider_name, o.title_zh, o.title_en FROM prepaid_outside_refund x "
            "JOIN prepaid_package p ON p.id = x.package JOIN provider pr ON pr.id = p.provider "
            "JOIN offer o ON o.id = p.offer JOIN union_node pn ON pn.id = pr.node "
            "LEFT JOIN operator op ON op.id = x.resolved_by WHERE pn.path LIKE $1 || '%' "
            "ORDER BY (x.uncovered_fen > 0 AND x.resolved_at IS NULL) DESC, x.id DESC LIMIT 100",
            scope,
        )
        # The alert counts what is still to resolve, of every such refund (not only the 100 shown).
        open_ = await _open_uncovered(connection, scope)
    return {
        "providers": [_with_left(row) for row in providers],
        "nodes": [_with_left(row) for row in nodes],
        "refunds": [dict(row) for row in refunds],
        "outside": [dict(row) for row in outside],
        "uncovered_fen": int(open_["fen"]),
        "uncovered": int(open_["n"]),
    }


# Reconciliation -----------------------------------------------------------------------------------


async def reconcile() -> dict[str, int]:
    """The ledger against itself and against payments, to the fen: each package's hold equals
    its payment's amount (member share) and its voucher's subsidy; held = released + refunded +
    left in both shares; the member shares refunded equal what the payments say went back.
    Returns counts of packages out of step, by finding (empty: all in step)."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            """
            SELECT p.id, p.member_fen, p.subsidy_fen, p.left_member_fen, p.left_subsidy_fen, pay.amount_fen,
                   pay.refunded_fen, v.subsidy_fen AS voucher_subsidy,
                   coalesce(sum(e.member_fen) FILTER (WHERE e.kind = 'hold'), 0) AS hold_m,
                   coalesce(sum(e.subsidy_fen) FILTER (WHERE e.kind = 'hold'), 0) AS hold_s,
                   coalesce(sum(e.member_fen) FILTER (WHERE e.kind <> 'hold'), 0) AS out_m,
                   coalesce(sum(e.subsidy_fen) FILTER (WHERE e.kind <> 'hold'), 0) AS out_s,
                   coalesce(sum(e.member_fen) FILTER (WHERE e.kind = 'refund'), 0) AS refund_m,
                   (SELECT coalesce(sum(r.subsidy_to_member_fen), 0) FROM prepaid_refund r WHERE r.package = p.id)
                       AS subsidy_to_member,
                   (SELECT coalesce(sum(o.uncovered_fen), 0) FROM prepaid_outside_refund o WHERE o.package = p.id)
                       AS uncovered
            FROM prepaid_package p JOIN payment pay ON pay.id = p.payment JOIN voucher v ON v.id = p.voucher
            LEFT JOIN prepaid_entry e ON e.package = p.id
            GROUP BY p.id, pay.id, v.id
            """
        )
    found: dict[str, int] = {}
    for row in rows:
        checks = {
            "hold_differs_from_payment": row["hold_m"] != row["amount_fen"] or row["hold_m"] != row["member_fen"],
            "hold_differs_from_subsidy": row["hold_s"] != row["voucher_subsidy"] or row["hold_s"] != row["subsidy_fen"],
            "ledger_differs_from_balance": row["hold_m"] - row["out_m"] != row["left_member_fen"]
            or row["hold_s"] - row["out_s"] != row["left_subsidy_fen"],
            # What went back to the member: the refunds' member shares, the subsidy some gave
            # them, and what refunds made in Stripe took beyond what the escrow held.
            "refund_differs_from_payment": row["refund_m"] + row["subsidy_to_member"] + row["uncovered"]
            != row["refunded_fen"],
        }
        for finding, bad in checks.items():
            if bad:
                found[finding] = found.get(finding, 0) + 1
    return found
