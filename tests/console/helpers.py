"""Shared steps of the console tests: sign in through the web form, post with the CSRF token."""

from datetime import timedelta

from catalog.tables import Offer
from tests.factories import PASSWORD, now

HTML = {"accept": "text/html"}


async def web_login(client, area: str, username: str) -> None:
    client.cookies.clear()
    await client.get(f"/{area}/login")
    response = await client.post(
        f"/{area}/login",
        data={"username": username, "password": PASSWORD, "_csrf_token": client.cookies.get("csrftoken")},
    )
    assert response.status_code in (302, 303), response.text


async def post(client, path: str, data: dict | list) -> object:
    token = client.cookies.get("csrftoken")
    pairs = data if isinstance(data, list) else list(data.items())
    body: dict[str, list[str]] = {}
    for key, value in [*pairs, ("_csrf_token", token)]:
        body.setdefault(key, []).append(value)
    return await client.post(path, data=body, headers=HTML)


async def submitted_offers(world, n: int, provider: str = "chaoyang", title: str = "瑜伽体验课") -> list[int]:
    """n offers of a provider, submitted for review, the oldest first."""
    ids = []
    for i in range(n):
        ids.append(
            (
                await Offer.insert(
                    Offer(
                        provider=world.providers[provider]["id"],
                        category=1,
                        kind="voucher" if i % 2 else "points",
                        title_zh=f"{title}{i:03d}",
                        title_en=None,
                        description_zh="周末可用",
                        list_price_fen=10000,
                        member_price_fen=5000,
                        subsidy_fen=1000,
                        points_price=100 if i % 2 == 0 else None,
                        stock_total=10,
                        stock_left=10,
                        per_member_limit=1,
                        node_scope=world.nodes["beijing"],
                        groups=[],
                        status="submitted",
                        valid_from=now(),
                        valid_to=now() + timedelta(days=30),
                        created_at=now(),
                        updated_at=now() + timedelta(seconds=i),
                    )
                ).returning(Offer.id)
            )[0]["id"]
        )
    return ids
