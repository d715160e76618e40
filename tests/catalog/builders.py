"""Builders for listing tests: request bodies, sign-ins and outbox reads."""

import io
from datetime import UTC, datetime, timedelta

from marketplace.core.db import engine
from tests.test_errors import bearer

# One moment for the whole session, so that two bodies built apart are equal.
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def offer_body(world, **changes) -> dict:
    now = NOW
    body = {
        "kind": "paid",
        "category_id": 1,
        "title_zh": "私教体验课",
        "title_en": "Personal training trial",
        "description_zh": "一对一私教课60分钟",
        "list_price_fen": 30000,
        "member_price_fen": 19900,
        "subsidy_fen": 5000,
        "stock_total": 50,
        "per_member_limit": 2,
        "limit_period": "month",
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_to": (now + timedelta(days=60)).isoformat(),
        "node_scope_id": world.nodes["chaoyang"],
        "tags": ["私教", "健身"],
        "groups": [],
        "location_ids": [],
        "terms_zh": "需提前一天预约",
    }
    body.update(changes)
    return body


async def owner(client, world, key="chaoyang") -> dict:
    return await bearer(client, "provider", world.providers[key]["owner"])


async def staff(client, world, key="chaoyang") -> dict:
    return await bearer(client, "provider", world.providers[key]["staff"])


async def operator(client, world, key="chaoyang") -> dict:
    return await bearer(client, "operator", world.operators[key])


async def changed_events() -> list[int]:
    """offer ids of the `offer.changed` outbox rows, in order."""
    rows = await engine().run_ddl(
        "SELECT payload->>'offer_id' AS offer_id FROM outbox_event WHERE topic = 'offer.changed' ORDER BY id"
    )
    return [int(row["offer_id"]) for row in rows]


async def count(table: str) -> int:
    rows = await engine().run_ddl(f"SELECT count(*) AS n FROM {table}")
    return rows[0]["n"]


def picture(fmt: str, size=(1600, 900), color=(200, 30, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()
