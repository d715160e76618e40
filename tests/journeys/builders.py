"""Offers for the member journeys, on top of tests/factories.py's world."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from catalog.tables import Category, Offer, OfferSlot
from tests.factories import now

SHANGHAI = ZoneInfo("Asia/Shanghai")


def last_day(days_ahead: int = 60) -> date:
    """A last valid day some weeks ahead, as an owner types it."""
    return datetime.now(SHANGHAI).date() + timedelta(days=days_ahead)


def midnight_after(day: date) -> datetime:
    """How the offer form stores "valid until <day>": the next midnight in Shanghai."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=SHANGHAI)


async def offer(
    world,
    kind: str,
    title: str,
    *,
    list_fen: int,
    member_fen: int = 0,
    subsidy_fen: int = 0,
    points: int | None = None,
    stock: int = 100,
    limit: int = 1,
    valid_until: date | None = None,
    starts: datetime | None = None,
    category: str = "fitness",
) -> int:
    category_id = (await Category.select(Category.id).where(Category.code == category).first())["id"]
    return (
        await Offer.insert(
            Offer(
                provider=world.providers["chaoyang"]["id"],
                category=category_id,
                kind=kind,
                title_zh=title,
                title_en=None,
                description_zh="全市通用，节假日通用。",
                list_price_fen=list_fen,
                member_price_fen=member_fen,
                subsidy_fen=subsidy_fen,
                points_price=points,
                stock_total=max(stock, 1),
                stock_left=stock,
                per_member_limit=limit,
                node_scope=world.nodes["beijing"],
                groups=[],
                status="published",
                valid_from=starts or now() - timedelta(days=1),
                valid_to=midnight_after(valid_until or last_day()),
                created_at=now(),
                updated_at=now(),
            )
        ).returning(Offer.id)
    )[0]["id"]


async def slot(offer_id: int, day: date, start: str, end: str, capacity: int = 10) -> int:
    starts = datetime.combine(day, time.fromisoformat(start), tzinfo=SHANGHAI)
    ends = datetime.combine(day, time.fromisoformat(end), tzinfo=SHANGHAI)
    return (
        await OfferSlot.insert(
            OfferSlot(offer=offer_id, starts_at=starts, ends_at=ends, capacity=capacity, booked=0)
        ).returning(OfferSlot.id)
    )[0]["id"]
