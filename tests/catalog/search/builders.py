"""Search test data: offers in several categories, districts and places, and a fresh index."""

from datetime import timedelta

from catalog.search import index
from catalog.tables import Category, Offer, OfferLocation
from marketplace.core.db import engine
from marketplace.core.jobs import outbox
from providers.tables import Location
from tests.factories import now

# Places in Beijing (lat, lng).
WANGJING = (39.9960, 116.4700)
GUOMAO = (39.9087, 116.4600)
ZHONGGUANCUN = (39.9833, 116.3160)


async def category(code: str, zh: str, en: str) -> int:
    existing = await Category.select(Category.id).where(Category.code == code).first()
    if existing:
        return existing["id"]
    return (await Category.insert(Category(code=code, name_zh=zh, name_en=en)).returning(Category.id))[0]["id"]


async def location(
    provider_id: int, name: str, district: str, place: tuple[float, float], hours: dict | None = None
) -> int:
    return (
        await Location.insert(
            Location(
                provider=provider_id,
                name=name,
                address=f"北京市{district}{name}",
                district=district,
                latitude=place[0],
                longitude=place[1],
                opening_hours=hours if hours is not None else {day: ["00:00", "23:59"] for day in index.DAYS},
            )
        ).returning(Location.id)
    )[0]["id"]


async def offer(
    provider_id: int,
    category_id: int,
    title_zh: str,
    title_en: str,
    *,
    scope: int,
    groups=(),
    tags=(),
    member_price=9900,
    list_price=19900,
    stock=100,
    kind="voucher",
    locations=(),
    status="published",
    days_left=30,
) -> int:
    offer_id = (
        await Offer.insert(
            Offer(
                provider=provider_id,
                category=category_id,
                kind=kind,
                title_zh=title_zh,
                title_en=title_en,
                description_zh=f"{title_zh}，工会会员专享",
                description_en=f"{title_en} for union members",
                list_price_fen=list_price,
                member_price_fen=member_price,
                subsidy_fen=min(1000, member_price),
                stock_total=max(stock, 1),
                stock_left=stock,
                per_member_limit=1,
                node_scope=scope,
                groups=list(groups),
                status=status,
                tags=list(tags),
                valid_from=now() - timedelta(days=1),
                valid_to=now() + timedelta(days=days_left),
                created_at=now(),
                updated_at=now(),
                published_at=now() if status == "published" else None,
            )
        ).returning(Offer.id)
    )[0]["id"]
    for location_id in locations:
        await OfferLocation.insert(OfferLocation(offer=offer_id, location=location_id))
    return offer_id


async def catalogue(world) -> dict[str, int]:
    """The world's three offers plus a health check, a yoga class and a cinema ticket, with
    locations around Beijing."""
    fitness = await category("fitness", "健身", "Fitness")
    health = await category("health", "体检", "Health")
    culture = await category("culture", "文体", "Culture")
    cy, hd = world.providers["chaoyang"]["id"], world.providers["haidian"]["id"]
    guomao = await location(cy, "国贸店", "朝阳区", GUOMAO)
    zgc = await location(hd, "中关村店", "海淀区", ZHONGGUANCUN)
    offers = dict(world.offers)
    offers["checkup"] = await offer(
        hd,
        health,
        "入职体检套餐",
        "Basic health checkup",
        scope=world.nodes["beijing"],
        tags=["体检"],
        member_price=29900,
        list_price=59900,
        locations=[zgc],
    )
    offers["yoga"] = await offer(
        cy,
        fitness,
        "瑜伽体验课",
        "Yoga trial class",
        scope=world.nodes["national"],
        tags=["瑜伽"],
        member_price=3000,
        list_price=10000,
        locations=[guomao],
    )
    offers["cinema"] = await offer(
        hd,
        culture,
        "电影兑换券",
        "Cinema ticket",
        scope=world.nodes["beijing"],
        tags=["电影"],
        member_price=2000,
        list_price=6000,
        stock=0,
        locations=[zgc],
    )
    offers["chaoyang_only"] = await offer(
        cy, fitness, "朝阳区专享游泳卡", "Chaoyang swimming card", scope=world.nodes["chaoyang"], tags=["游泳"]
    )
    offers["draft"] = await offer(cy, fitness, "健身草稿", "Draft gym", scope=world.nodes["beijing"], status="draft")
    return offers


async def fresh_index() -> None:
    """An empty test index with the current settings."""
    await drop_index()
    await index.ensure_index()


async def drop_index() -> None:
    meili = index.client()
    await meili.delete_index_if_exists(f"{index.index_uid()}_next")
    await meili.delete_index_if_exists(index.index_uid())


async def publish(topic: str, payload: dict) -> int:
    async with engine().transaction():
        return await outbox.publish(topic, payload)
