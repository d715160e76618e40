"""Prepaid Guard: buying a prepaid package, taking it back, refunds, and the balances members,
providers and operators see. The ledger itself is escrow.py.

- `purchase`: the one way to buy a package: the existing paid path (marketplace/payments:
  a pending voucher holding the stock, a Stripe PaymentIntent for the member's share); when
  the payment succeeds, payments holds the money in escrow (escrow.hold).
- Sessions are used at the counter (marketplace/vouchers' redeem calls escrow.use_session):
  each releases its part to the provider's settlement. A period membership releases its
  months through the periodic `release_memberships`.
- `take_back`: within COOLING_OFF_DAYS of buying, with nothing used, one button refunds
  everything. `refund_provider`: a delisted provider's packages are refunded, every unused
  balance, automatically; the member is told in the inbox. `refund_expired`: a package whose
  time ran out with sessions left gets them back (no "expires, no refund").
- A refund, in one transaction: the ledger's refund entry, the payment's refunded amount
  (before Stripe is called, so Stripe's webhook finds it done), the voucher's state, the
  subsidy's return to its campaign, the member's message. Then, outside it, the member's
  share goes back through Stripe (`send_refund`, once per refund: Stripe's idempotency key);
  a refund Stripe could not take is sent again by `send_unsent_refunds`.
"""

from datetime import UTC, datetime, timedelta

import stripe
import structlog

from evaluation.enforcement import freeze, prepaid_rules
from marketplace.campaigns import services as campaigns
from marketplace.core import dates, money, notifications, personal_data
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Forbidden, NotFound
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
    "unused": N_("unused sessions"),
    "expired": N_("sessions left when the package ended"),
}


def _member(principal: Principal) -> None:
    if principal is None or principal.kind != "member":
        raise Forbidden("Only members may buy packages.", code="wrong_role")


# Buying -------------------------------------------------------------------------------------------


async def purchase(principal: Principal, offer_id: int, idempotency_key: str | None = None) -> PaymentRead:
    """Buy a prepaid package: the pending voucher and its payment (one short transaction, once
    per idempotency key), then the PaymentIntent outside it. The member pays on the payment page;
    the money is held in escrow when the payment succeeds."""
    _member(principal)
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
    used = refund["sessions_used"] > 0 or refund["months_released"] > 0
    refunded_total = refund["member_fen"] - refund["left_member_fen"] + member_fen
    if member_fen > 0:
        refunded_total = await payments.owe_refund(connection, refund["payment"], member_fen)
    await vouchers.prepaid_refunded(connection, refund["voucher"], refunded_total, used=used)
    if used and subsidy_fen > 0:  # unused: the voucher's release gave the whole subsidy back
        await campaigns.return_part(connection, refund["voucher"], subsidy_fen)
    title = await connection.fetchval("SELECT title_zh FROM offer WHERE id = $1", refund["offer"])
    await notifications.add(
        connection,
        [
            notifications.Message(
                refund["member"],
                f"prepaid_refunded_{reason}",
                {"amount": money.yuan(member_fen), "offer": title, "days": payments.REFUND_WORKING_DAYS},
                link="/packages",
            )
        ],
    )
    return refund


async def send_refund(refund_id: int) -> bool:
    """Send a refund's member share through Stripe, once; True when it is (or was) sent."""
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT r.id, r.member_fen, r.sent_at, p.payment FROM prepaid_refund r "
            "JOIN prepaid_package p ON p.id = r.package WHERE r.id = $1",
            refund_id,
        )
    if row is None:
        return False
    if row["sent_at"] is not None:
        return True
    stripe_id = None
    if row["member_fen"] > 0:
        try:
            stripe_id = await payments.send_part_refund(
                row["payment"], row["member_fen"], f"prepaid-refund-{refund_id}"
            )
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
    _member(principal)
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


async def refund_provider(provider_id: int) -> int:
    """Every active package of a delisted provider, refunded one per transaction (so that
    counter scans running meanwhile wait for one package only); how many. Safe to repeat."""
    async with engine().transaction() as transaction:
        ids = [
            row["id"]
            for row in await transaction.connection.fetch(
                "SELECT id FROM prepaid_package WHERE provider = $1 AND status = 'active' ORDER BY id", provider_id
            )
        ]
    refunded = 0
    for package_id in ids:
        refunded += await refund_package(package_id, "delisted") is not None
    log.info("prepaid_provider_refunded", provider_id=provider_id, count=refunded)
    return refunded


async def refund_expired(now: datetime | None = None, limit: int = 500) -> int:
    """Packages whose time ran out with money left: what is left goes back (periodic)."""
    now = now or datetime.now(UTC)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT id, sessions_total FROM prepaid_package WHERE status = 'active' AND expires_at <= $1 "
            "ORDER BY expires_at LIMIT $2",
            now,
            limit,
        )
    done = 0
    for row in rows:
        if row["sessions_total"] is None:  # a membership's months are released first
            async with engine().transaction() as transaction:
                await escrow.release_months(transaction.connection, row["id"], now)
        done += await refund_package(row["id"], "expired") is not None
    return done


async def release_memberships(now: datetime | None = None) -> int:
    """Period memberships: the months that have passed, released pro rata (periodic); fen released."""
    now = now or datetime.now(UTC)
    async with engine().transaction() as transaction:
        ids = [
            row["id"]
            for row in await transaction.connection.fetch(
                "SELECT id FROM prepaid_package WHERE status = 'active' AND sessions_total IS NULL ORDER BY id"
            )
        ]
    released = 0
    for package_id in ids:
        async with engine().transaction() as transaction:
            released += await escrow.release_months(transaction.connection, package_id, now)
    return released


async def send_unsent_refunds(limit: int = 500) -> int:
    """Refunds Stripe could not take when they were made, sent again (periodic)."""
    async with engine().transaction() as transaction:
        ids = [
            row["id"]
            for row in await transaction.connection.fetch(
                "SELECT id FROM prepaid_refund WHERE sent_at IS NULL ORDER BY created_at LIMIT $1", limit
            )
        ]
    return sum([await send_refund(refund_id) for refund_id in ids])


# What members, providers and operators see ----------------------------------------------------------

_MINE_SQL = f"""
SELECT {escrow.PACKAGE_COLUMNS}, o.title_zh, o.title_en, pr.name AS provider_name, v.code,
       r.reason AS refund_reason, r.member_fen AS refunded_member_fen, r.created_at AS refunded_at, r.sent_at
FROM prepaid_package p JOIN offer o ON o.id = p.offer JOIN provider pr ON pr.id = p.provider
JOIN voucher v ON v.id = p.voucher LEFT JOIN prepaid_refund r ON r.package = p.id
"""


def _package_view(row, now: datetime) -> dict:
    view = dict(row)
    view["sessions_left"] = row["sessions_total"] - row["sessions_used"] if row["sessions_total"] is not None else None
    view["cooling_off"] = escrow.in_cooling_off(view, now)
    view["cooling_off_days"] = escrow.cooling_off_days(view)
    view["cooling_off_until"] = row["created_at"] + timedelta(days=view["cooling_off_days"])
    view["left_fen"] = row["left_member_fen"] + row["left_subsidy_fen"]
    return view


async def my_packages(principal: Principal) -> list[dict]:
    """The member's packages, newest first: sessions left, expiry, cooling-off, refund."""
    _member(principal)
    now = datetime.now(UTC)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _MINE_SQL + "WHERE p.member = $1 ORDER BY p.id DESC LIMIT 200", principal.id
        )
    return [_package_view(row, now) for row in rows]


async def history(principal: Principal, package_id: int) -> list[dict]:
    """A package's ledger as its member reads it (each use, release and refund)."""
    _member(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT e.kind, e.ref, e.member_fen, e.subsidy_fen, e.reason, e.created_at FROM prepaid_entry e "
            "JOIN prepaid_package p ON p.id = e.package WHERE e.package = $1 AND p.member = $2 ORDER BY e.id",
            package_id,
            principal.id,
        )
    return [dict(row) for row in rows]


async def histories(principal: Principal, package_ids: list[int]) -> dict[int, list[dict]]:
    _member(principal)
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
    if principal is None or principal.kind != "provider" or principal.provider_id is None:
        raise Forbidden("Only a provider's staff may see this.", code="wrong_role")
    provider_id = principal.provider_id
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
        if row["sessions_total"] is not None:
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
            view["sessions_left"] = None
        view["left_fen"] = row["left_member_fen"] + row["left_subsidy_fen"]
        upcoming.append(view)
    return {"totals": _with_left(totals), "released_this_month_fen": int(month), "packages": upcoming}


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
            "SELECT r.id, r.reason, r.member_fen, r.subsidy_fen, r.created_at, r.sent_at, pr.name AS provider_name, "
            "o.title_zh, o.title_en, n.name_zh AS node_zh, n.name_en AS node_en FROM prepaid_refund r "
            "JOIN prepaid_package p ON p.id = r.package JOIN provider pr ON pr.id = p.provider "
            "JOIN offer o ON o.id = p.offer JOIN union_node n ON n.id = r.funding_node "
            "JOIN union_node pn ON pn.id = pr.node WHERE pn.path LIKE $1 || '%' ORDER BY r.id DESC LIMIT 100",
            scope,
        )
    return {
        "providers": [_with_left(row) for row in providers],
        "nodes": [_with_left(row) for row in nodes],
        "refunds": [dict(row) for row in refunds],
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
                   coalesce(sum(e.member_fen) FILTER (WHERE e.kind = 'refund'), 0) AS refund_m
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
            "refund_differs_from_payment": row["refund_m"] != row["refunded_fen"],
        }
        for finding, bad in checks.items():
            if bad:
                found[finding] = found.get(finding, 0) + 1
    return found
