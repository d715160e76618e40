"""Complaints cannot be stuffed: only about a used voucher (or a paid booking the provider
did not honour), once per voucher whatever became of the first, a few per member a week."""

from datetime import timedelta

import pytest

from evaluation.complaints import services as complaints
from marketplace.core.db import engine
from marketplace.core.federation import services as federation
from marketplace.vouchers import services as vouchers
from tests.evaluation.test_quality_loop import redeemed_voucher
from tests.factories import now
from tests.test_errors import assert_problem, bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

COMPLAINT = {"category": "poor_service", "text": "服务态度很差，等了很久"}


async def test_claim_complain_cancel_claim_again_files_nothing(client, world):
    member = await federation.member_principal(world.members["chaoyang"][0])
    headers = await bearer(client, "member", world.members["chaoyang"][1])
    for _ in range(2):
        voucher = await vouchers.claim(member, world.offers["public"])
        body = assert_problem(
            await client.post(f"/api/v1/vouchers/{voucher.id}/complaints", headers=headers, json=COMPLAINT),
            409,
            "complaint_not_eligible",
        )
        assert "used" in body["detail"]
        assert (await client.post(f"/api/v1/vouchers/{voucher.id}/cancel", headers=headers)).status_code == 200
    async with engine().transaction() as transaction:
        assert await transaction.connection.fetchval("SELECT count(*) FROM complaint") == 0


async def test_one_complaint_per_voucher_even_after_it_was_closed(client, world):
    _, voucher = await redeemed_voucher(world)
    headers = await bearer(client, "member", world.members["chaoyang"][1])
    filed = await client.post(f"/api/v1/vouchers/{voucher.id}/complaints", headers=headers, json=COMPLAINT)
    assert filed.status_code == 201, filed.text
    operator = await bearer(client, "operator", world.operators["chaoyang"])
    closed = await client.post(
        f"/api/v1/console/complaints/{filed.json()['id']}/close", headers=operator, json={"resolution": "已调解"}
    )
    assert closed.status_code == 200, closed.text
    assert_problem(
        await client.post(f"/api/v1/vouchers/{voucher.id}/complaints", headers=headers, json=COMPLAINT),
        409,
        "complaint_exists",
    )


async def test_a_member_files_at_most_three_complaints_a_week(client, world):
    async with engine().transaction() as transaction:  # two more offers of the provider to use
        for key in ("copy1", "copy2"):
            world.offers[key] = await transaction.connection.fetchval(
                "INSERT INTO offer (provider, category, kind, title_zh, description_zh, list_price_fen, "
                "member_price_fen, subsidy_fen, stock_total, stock_left, per_member_limit, node_scope, groups, "
                "status, valid_from, valid_to, created_at) SELECT provider, category, kind, title_zh, description_zh, "
                "list_price_fen, member_price_fen, subsidy_fen, 100, 100, 1, node_scope, '{}', status, valid_from, "
                "valid_to, created_at FROM offer WHERE id = $1 RETURNING id",
                world.offers["public"],
            )
    used = [(await redeemed_voucher(world, key))[1] for key in ("public", "women", "copy1", "copy2")]
    headers = await bearer(client, "member", world.members["chaoyang"][1])
    for voucher in used[:3]:
        response = await client.post(f"/api/v1/vouchers/{voucher.id}/complaints", headers=headers, json=COMPLAINT)
        assert response.status_code == 201, response.text
    refused = await client.post(f"/api/v1/vouchers/{used[3].id}/complaints", headers=headers, json=COMPLAINT)
    assert_problem(refused, 429, "complaint_rate_limited")
    assert int(refused.headers["retry-after"]) > 6 * 24 * 3600
    # A week later the member may complain again.
    async with engine().transaction() as transaction:
        await transaction.connection.execute("UPDATE complaint SET created_at = created_at - interval '8 days'")
    again = await client.post(f"/api/v1/vouchers/{used[3].id}/complaints", headers=headers, json=COMPLAINT)
    assert again.status_code == 201, again.text


async def test_a_paid_booking_the_provider_did_not_honour_may_be_complained_about(world):
    member = await federation.member_principal(world.members["chaoyang"][0])
    voucher = await vouchers.claim(member, world.offers["public"])
    ended = now() - timedelta(hours=2)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        slot = await connection.fetchval(
            "INSERT INTO offer_slot (offer, starts_at, ends_at, capacity, booked) VALUES ($1, $2, $3, 5, 1) "
            "RETURNING id",
            world.offers["public"],
            ended - timedelta(hours=1),
            ended,
        )
        await connection.execute("UPDATE offer SET kind = 'slot' WHERE id = $1", world.offers["public"])
        await connection.execute("UPDATE voucher SET slot = $2, paid_fen = 9900 WHERE id = $1", voucher.id, slot)
    from evaluation.schemas import ComplaintInput

    filed = await vouchers.complain(
        member, voucher.id, ComplaintInput(category="not_honoured", text="到店后商户没有开门")
    )
    assert filed.status == "open"
    # The same booking unpaid (a free one) is not a no-show the marketplace vouches for.
    async with engine().transaction() as transaction:
        await transaction.connection.execute("UPDATE voucher SET paid_fen = 0 WHERE id = $1", voucher.id)
        await transaction.connection.execute("DELETE FROM complaint")
    with pytest.raises(complaints.Conflict) as refused:
        await vouchers.complain(member, voucher.id, ComplaintInput(category="not_honoured", text="到店后商户没有开门"))
    assert refused.value.code == "complaint_not_eligible"


async def test_complaints_racing_about_one_voucher_file_one(world):
    """Five complaints about one used voucher at once: one is filed, the others are refused."""
    import asyncio

    from evaluation.schemas import ComplaintInput

    member, voucher = await redeemed_voucher(world)
    data = ComplaintInput(category="poor_service", text="服务态度很差，等了很久")
    results = await asyncio.gather(
        *(vouchers.complain(member, voucher.id, data) for _ in range(5)), return_exceptions=True
    )
    filed = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, BaseException)]
    assert len(filed) == 1
    assert all(isinstance(error, complaints.Conflict) and error.code == "complaint_exists" for error in refused)
    async with engine().transaction() as transaction:
        assert (
            await transaction.connection.fetchval("SELECT count(*) FROM complaint WHERE voucher = $1", voucher.id) == 1
        )


async def test_the_database_keeps_one_complaint_per_voucher_even_for_a_writer_without_the_lock(world):
    """The service's check runs under a per-member lock; the unique index holds the rule for any
    other writer too, also once the first complaint is closed."""
    from asyncpg.exceptions import UniqueViolationError

    from evaluation.schemas import ComplaintInput

    member, voucher = await redeemed_voucher(world)
    await vouchers.complain(member, voucher.id, ComplaintInput(category="poor_service", text="服务态度很差"))
    insert = (
        "INSERT INTO complaint (voucher, provider, member, category, text, status, created_at, respond_by) "
        "SELECT voucher, provider, member, category, '再投诉一次', $2, now(), now() FROM complaint "
        "WHERE voucher = $1"
    )
    async with engine().transaction() as transaction:
        await transaction.connection.execute("UPDATE complaint SET status = 'closed' WHERE voucher = $1", voucher.id)
    for status in ("open", "closed"):
        with pytest.raises(UniqueViolationError):
            async with engine().transaction() as transaction:
                await transaction.connection.execute(insert, voucher.id, status)
