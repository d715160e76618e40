"""Redeemed vouchers built through the vouchers service, and principals of the world's accounts."""

from datetime import datetime, timedelta

from catalog.tables import Category, Offer
from marketplace.core.db import engine
from marketplace.core.federation import services as federation
from marketplace.core.identity import services as identity
from marketplace.core.identity.tables import Operator
from marketplace.vouchers import services as vouchers
from providers.settlements import services as settlements
from providers.tables import ProviderUser
from tests import factories

_serial = iter(range(500, 100_000))


async def value(sql: str, *args):
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(sql, *args)


async def execute(sql: str, *args) -> None:
    async with engine().transaction() as transaction:
        await transaction.connection.execute(sql, *args)


async def provider_principal(world, provider="chaoyang", role="owner"):
    username = world.providers[provider][role]
    user = await ProviderUser.select(ProviderUser.id).where(ProviderUser.username == username).first()
    return await identity.load_principal("provider", user["id"])


async def operator_principal(world, key: str):
    row = await Operator.select(Operator.id).where(Operator.username == world.operators[key]).first()
    return await identity.load_principal("operator", row["id"])


async def add_offer(world, provider="chaoyang", subsidy_fen=3000, title="体检套餐") -> int:
    category = (
        await value("SELECT id FROM category LIMIT 1")
        or (await Category.insert(Category(code="health", name_zh="健康", name_en="Health")).returning(Category.id))[0][
            "id"
        ]
    )
    now = factories.now()
    return (
        await Offer.insert(
            Offer(
                provider=world.providers[provider]["id"],
                category=category,
                kind="voucher",
                title_zh=title,
                title_en="Check-up",
                description_zh="全市通用",
                list_price_fen=39900,
                member_price_fen=19900,
                subsidy_fen=subsidy_fen,
                stock_total=1000,
                stock_left=1000,
                per_member_limit=1,
                node_scope=world.nodes["beijing"],
                groups=[],
                status="published",
                valid_from=now - timedelta(days=1),
                valid_to=now + timedelta(days=30),
                created_at=now,
            )
        ).returning(Offer.id)
    )[0]["id"]


async def redeemed(world, offer_id: int, provider="chaoyang", paid_fen: int = 0) -> dict:
    """A new member of the couriers' union claims the offer; the provider's staff redeem it.
    The voucher's id, code, subsidy and redemption time."""
    member_id, _ = await factories.add_member(world.nodes["cy_union"], next(_serial), "张三丰", groups=("women",))
    member = await federation.member_principal(member_id)
    voucher = await vouchers.claim(member, offer_id)
    if paid_fen:  # paid claims are not open yet: record the member's payment as payments will
        await execute("UPDATE voucher SET paid_fen = $2 WHERE id = $1", voucher.id, paid_fen)
    await vouchers.redeem(await provider_principal(world, provider, "staff"), voucher.code)
    row = await _row(voucher.id)
    return dict(row)


async def _row(voucher_id: int):
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchrow(
            "SELECT id, code, status, subsidy_fen, paid_fen, redeemed_at FROM voucher WHERE id = $1", voucher_id
        )


async def move_redemption(voucher_id: int, when: datetime) -> None:
    await execute("UPDATE voucher SET redeemed_at = $2 WHERE id = $1", voucher_id, when)


def month_after(period: str) -> datetime:
    """An instant just after `period` ended: when drafting it is allowed."""
    return settlements.period_bounds(period)[1] + timedelta(seconds=1)


async def set_account(world, account: str, provider="chaoyang") -> None:
    """The provider's payout account, through four eyes: Chaoyang's operator proposes it,
    Beijing's approves it."""
    from marketplace.core.identity import approvals

    proposal = await settlements.set_payout_account(
        await operator_principal(world, "chaoyang"), world.providers[provider]["id"], account
    )
    await approvals.decide(await operator_principal(world, "beijing"), proposal["id"], True)
