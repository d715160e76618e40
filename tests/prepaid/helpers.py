"""Buying and paying prepaid packages for the tests: the real paid path (payments and the
Stripe stand-in), the counter, and a delisting as the enforcement loop announces it."""

from catalog.tables import Offer
from marketplace.core.db import engine
from marketplace.core.federation import services as federation
from marketplace.core.jobs import outbox, topics
from marketplace.payments import services as payments
from marketplace.payments.tables import Payment
from marketplace.prepaid import actors, services
from providers import services as providers
from tests.payments.stripe_helpers import pay_at_stripe

# Odd amounts on purpose: the parts of each share must add up to the fen.
MEMBER_PRICE = 100_01
SUBSIDY = 29_99
SHARE = MEMBER_PRICE - SUBSIDY  # what the member pays online


async def prepaid_offer(world, sessions: int | None = 3, months: int = 6, key: str = "public") -> int:
    offer_id = world.offers[key]
    await Offer.update(
        {
            Offer.kind: "prepaid",
            Offer.package_sessions: sessions,
            Offer.package_months: months,
            Offer.member_price_fen: MEMBER_PRICE,
            Offer.subsidy_fen: SUBSIDY,
            Offer.list_price_fen: 200_00,
            Offer.per_member_limit: 5,
            Offer.terms_zh: "7天内未使用可全额退款。",
        }
    ).where(Offer.id == offer_id)
    return offer_id


async def buy(member, offer_id: int) -> dict:
    """The member buys and pays; the package as held in escrow."""
    payment = await services.purchase(member, offer_id)
    intent_id = (await Payment.select(Payment.payment_intent).where(Payment.id == payment.id).first())["payment_intent"]
    assert await pay_at_stripe(intent_id) == "succeeded"
    assert (await payments.check_return(member, payment.id)).status == "succeeded"
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT p.*, v.code FROM prepaid_package p JOIN voucher v ON v.id = p.voucher WHERE p.payment = $1",
            payment.id,
        )
    assert row is not None
    return dict(row)


async def member(world, key="chaoyang"):
    return await federation.member_principal(world.members[key][0])


async def delist(provider_id: int) -> int:
    """The provider is delisted (as evaluation's delisting does) and the event reaches prepaid's actor."""
    async with engine().transaction() as transaction:
        await providers.transition(
            transaction.connection, provider_id, ("active", "suspended"), "delisted", "system", None
        )
        await outbox.publish(topics.ProviderDelisted(provider_id=provider_id, case_id=1))
    return await actors.on_provider_delisted(0, {"provider_id": provider_id, "case_id": 1})


async def ledger(package_id: int) -> dict:
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT p.member_fen, p.subsidy_fen, p.left_member_fen, p.left_subsidy_fen, p.sessions_used, p.status, "
            "coalesce(sum(e.member_fen) FILTER (WHERE e.kind = 'hold'), 0) AS held_m, "
            "coalesce(sum(e.subsidy_fen) FILTER (WHERE e.kind = 'hold'), 0) AS held_s, "
            "coalesce(sum(e.member_fen) FILTER (WHERE e.kind = 'release'), 0) AS released_m, "
            "coalesce(sum(e.subsidy_fen) FILTER (WHERE e.kind = 'release'), 0) AS released_s, "
            "coalesce(sum(e.member_fen) FILTER (WHERE e.kind = 'refund'), 0) AS refunded_m, "
            "coalesce(sum(e.subsidy_fen) FILTER (WHERE e.kind = 'refund'), 0) AS refunded_s, "
            "count(*) FILTER (WHERE e.kind = 'release') AS releases "
            "FROM prepaid_package p LEFT JOIN prepaid_entry e ON e.package = p.id WHERE p.id = $1 GROUP BY p.id",
            package_id,
        )
    return dict(row)


def balanced(row: dict) -> bool:
    """held = released + refunded + left, in each share, to the fen; nothing negative."""
    return (
        row["held_m"] == row["released_m"] + row["refunded_m"] + row["left_member_fen"]
        and row["held_s"] == row["released_s"] + row["refunded_s"] + row["left_subsidy_fen"]
        and min(row["left_member_fen"], row["left_subsidy_fen"]) >= 0
    )
