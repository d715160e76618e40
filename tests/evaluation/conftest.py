"""Quality signals written straight into their tables (the code that records redemptions,
ratings, complaints and evaluator batches has tests of its own), and the browser fixtures."""

from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest

from marketplace.core.db import engine
from tests.browser.conftest import browser, desktop_page, shots, static_assets  # noqa: F401

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


async def execute(sql: str, *args):
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(sql, *args)


class Signals:
    """`await signals.redemption(provider_id, days_ago=3)` and so on; ids are returned."""

    def __init__(self, world, now: datetime = NOW):
        self.world = world
        self.now = now
        self._voucher = count(1)
        self._categories: dict[str, int] = {}
        self._batch: int | None = None

    async def category(self, code: str = "fitness") -> int:
        if code not in self._categories:
            found = await execute("SELECT id FROM category WHERE code = $1", code)
            self._categories[code] = found or await execute(
                "INSERT INTO category (code, name_zh, name_en) VALUES ($1, $2, $3) RETURNING id",
                code,
                {"health": "健康", "dining": "餐饮"}.get(code, code),
                code.title(),
            )
        return self._categories[code]

    async def redemption(
        self, provider: int, days_ago: float = 1, honoured: bool | None = None, category: str = "fitness"
    ) -> int:
        at = self.now - timedelta(days=days_ago)
        return await execute(
            "INSERT INTO redemption (voucher, provider, offer, category, member, redeemed_at, honoured, survey_due_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $6) RETURNING id",
            next(self._voucher),
            provider,
            self.world.offers["public"],
            await self.category(category),
            self.world.members["chaoyang"][0],
            at,
            honoured,
        )

    async def rating(
        self,
        provider: int,
        overall: int,
        days_ago: float = 1,
        held: bool = False,
        category: str = "fitness",
        honoured: bool | None = None,
    ) -> int:
        """A redemption and its rating, both `days_ago`."""
        redemption = await self.redemption(provider, days_ago, honoured, category)
        at = self.now - timedelta(days=days_ago)
        return await execute(
            "INSERT INTO rating (redemption, provider, member, overall, created_at, updated_at, held, hold_reason) "
            "VALUES ($1, $2, $3, $4, $5, $5, $6, $7) RETURNING id",
            redemption,
            provider,
            self.world.members["chaoyang"][0],
            overall,
            at,
            held,
            "burst" if held else None,
        )

    async def complaint(
        self,
        provider: int,
        days_ago: float,
        respond_hours: float = 72,
        answer_after_hours: float | None = None,
        closed_after_hours: float | None = None,
    ) -> int:
        created = self.now - timedelta(days=days_ago)
        answered = created + timedelta(hours=answer_after_hours) if answer_after_hours is not None else None
        closed = created + timedelta(hours=closed_after_hours) if closed_after_hours is not None else None
        return await execute(
            "INSERT INTO complaint (voucher, provider, member, category, text, status, created_at, respond_by, "
            "answer, answered_at, closed_at) VALUES ($1, $2, $3, 'poor_service', '服务态度差', $4, $5, $6, $7, $8, $9) "
            "RETURNING id",
            next(self._voucher),
            provider,
            self.world.members["chaoyang"][0],
            "closed" if closed else "answered" if answered else "open",
            created,
            created + timedelta(hours=respond_hours),
            "已处理" if answered else None,
            answered,
            closed,
        )

    async def result(self, provider: int, visit: date, score: int, sample_size: int) -> int:
        if self._batch is None:
            self._batch = await execute(
                "INSERT INTO evaluator_batch (org, batch_ref, source, rows, content_hash, received_at, applied_at) "
                "VALUES ($1, 'b-1', 'json', 0, repeat('0', 64), $2, $2) RETURNING id",
                self.world.evaluator_org,
                self.now,
            )
        return await execute(
            "INSERT INTO evaluator_result (batch, org, provider, visit_date, method, score, sample_size) "
            "VALUES ($1, $2, $3, $4, 'phone_survey', $5, $6) RETURNING id",
            self._batch,
            self.world.evaluator_org,
            provider,
            visit,
            score,
            sample_size,
        )


@pytest.fixture
def signals(world) -> Signals:
    return Signals(world)
