"""A refund made by hand in the Stripe dashboard on a prepaid package's payment (the
charge.refunded webhook with a refund the platform did not ask for): the escrow follows it,
once, taking unused sessions off the end and never going below zero; what the escrow cannot
cover is shown to operators on the console's escrow page. The platform's own part refunds are
not followed twice. An operator marks what was not covered as resolved (recovered from the
provider, or the union's loss), with a note and a confirmation, once, audited."""

import re

import pytest
from playwright.async_api import expect

from marketplace.core import money
from marketplace.core.audit import services as audit
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid, NotFound
from marketplace.core.jobs import topics
from marketplace.payments import services as payments
from marketplace.payments.tables import StripeEvent
from marketplace.prepaid import escrow, services
from marketplace.vouchers import services as vouchers
from tests.browser.conftest import _context, _watch
from tests.browser.test_login import sign_in
from tests.console.helpers import post, web_login
from tests.evaluation.test_quality_loop import events
from tests.factories import PASSWORD
from tests.payments.stripe_helpers import signed
from tests.points.test_ledger import operator
from tests.prepaid.helpers import SHARE, SUBSIDY, balanced, buy, delist, ledger, member, prepaid_offer
from tests.prepaid.test_prepaid import stripe_refunded
from tests.vouchers.test_claims import staff_principal

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]
TOPIC = "payment.prepaid_refunded_in_stripe"
NOTE = "已从商户12月结算中扣回超退的金额，财务凭证号 HB-2026-118。"


async def refund_in_dashboard(payment_id: int, amount: int) -> dict:
    """What finance does by hand in the Stripe dashboard; the charge as charge.refunded carries it."""
    async with engine().transaction() as transaction:
        intent_id = await transaction.connection.fetchval(
            "SELECT payment_intent FROM payment WHERE id = $1", payment_id
        )
    client = payments.stripe_client()
    await client.v1.refunds.create_async({"payment_intent": intent_id, "amount": amount})
    refunds = (await client.v1.refunds.list_async({"payment_intent": intent_id})).data
    total = sum(refund.amount for refund in refunds)
    return {
        "id": f"ch_{intent_id}",
        "object": "charge",
        "payment_intent": intent_id,
        "amount": SHARE,
        "amount_refunded": total,
        "refunded": total >= SHARE,
        "refunds": {"data": [{"id": refund.id} for refund in refunds]},
    }


async def deliver(client, charge: dict) -> str:
    payload, headers = signed("charge.refunded", charge)
    response = await client.post("/api/v1/stripe/webhook", content=payload, headers=headers)
    assert response.status_code == 200, response.text
    stored = await StripeEvent.select(StripeEvent.id).order_by(StripeEvent.id, ascending=False).first()
    return await payments.apply_event(stored["id"])


async def escrow_follows() -> list[int]:
    """The events payments published, delivered to prepaid's actor; how many refunds each followed."""
    return [
        await services.follow_stripe_refunds(topics.PrepaidRefundedInStripe.read(payload).payment_id)
        for _, payload in await events(TOPIC)
    ]


async def test_a_partial_refund_in_stripe_takes_unused_sessions_off_the_end_once(client, world):
    offer_id = await prepaid_offer(world, sessions=3)
    buyer = await member(world)
    package = await buy(buyer, offer_id)
    staff = await staff_principal(world)
    await vouchers.redeem(staff, package["code"])
    await events(TOPIC)
    # The third session's part and one yuan more: session 3 goes, session 2 gives ¥1 less.
    amount = escrow.part(SHARE, 3, 3) + 100
    charge = await refund_in_dashboard(package["payment"], amount)
    assert await deliver(client, charge) == "sent_to_escrow"
    assert await escrow_follows() == [1]
    assert await deliver(client, charge) == "already_done"  # the same webhook again
    assert await services.follow_stripe_refunds(package["payment"]) == 0  # and the actor again

    row = await ledger(package["id"])
    assert balanced(row) and row["status"] == "active"
    assert row["left_member_fen"] == SHARE - escrow.part(SHARE, 3, 1) - amount
    assert row["refunded_m"] == amount and row["refunded_s"] == escrow.part(SUBSIDY, 3, 3)
    (mine,) = await services.my_packages(buyer)
    assert mine["sessions_left"] == 1 and mine["refund_reason"] == "stripe" and mine["refunded_member_fen"] == amount
    last = await vouchers.redeem(staff, package["code"])
    assert (last.session, last.sessions_left, last.status) == (2, 0, "redeemed")
    row = await ledger(package["id"])
    assert balanced(row) and row["status"] == "used_up" and row["left_member_fen"] == 0
    assert row["released_m"] == escrow.part(SHARE, 3, 1) + escrow.part(SHARE, 3, 2) - 100
    assert await stripe_refunded(package["payment"]) == amount
    async with engine().transaction() as transaction:
        told = await transaction.connection.fetchval(
            "SELECT count(*) FROM notification WHERE member = $1 AND kind = 'prepaid_refunded_in_stripe'", buyer.id
        )
    assert told == 1
    assert (await services.operator_overview(await operator(world, "chaoyang")))["uncovered"] == 0
    assert await services.reconcile() == {}
    async with engine().transaction() as transaction:
        outside_id = await transaction.connection.fetchval("SELECT id FROM prepaid_outside_refund")
    with pytest.raises(Conflict) as covered:  # the escrow covered it all: nothing to resolve
        await services.resolve_uncovered(await operator(world, "chaoyang"), outside_id, NOTE)
    assert covered.value.code == "nothing_uncovered"


async def test_what_the_escrow_cannot_cover_goes_to_the_operators_page(client, world):
    offer_id = await prepaid_offer(world, sessions=3)
    package = await buy(await member(world), offer_id)
    staff = await staff_principal(world)
    await vouchers.redeem(staff, package["code"])
    await vouchers.redeem(staff, package["code"])
    await events(TOPIC)
    assert await deliver(client, await refund_in_dashboard(package["payment"], SHARE)) == "sent_to_escrow"
    assert await escrow_follows() == [1]
    row = await ledger(package["id"])
    left = escrow.part(SHARE, 3, 3)
    assert balanced(row) and row["status"] == "refunded" and row["left_member_fen"] == 0
    assert row["refunded_m"] == left  # never below zero: the escrow gave what it held
    overview = await services.operator_overview(await operator(world, "chaoyang"))
    assert (overview["uncovered"], overview["uncovered_fen"]) == (1, SHARE - left)
    assert await services.reconcile() == {}

    await web_login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/prepaid")
    assert page.status_code == 200
    assert 'data-testid="escrow-uncovered-alert"' in page.text and "Stripe" in page.text
    assert f"¥{(SHARE - left) // 100}.{(SHARE - left) % 100:02d}" in page.text


async def not_covered(client, world) -> int:
    """A package of three sessions used twice, then refunded in full in the dashboard: the
    escrow covers the third session's part, the rest is not covered. The refund's row."""
    offer_id = await prepaid_offer(world, sessions=3)
    package = await buy(await member(world), offer_id)
    staff = await staff_principal(world)
    await vouchers.redeem(staff, package["code"])
    await vouchers.redeem(staff, package["code"])
    await events(TOPIC)
    assert await deliver(client, await refund_in_dashboard(package["payment"], SHARE)) == "sent_to_escrow"
    assert await escrow_follows() == [1]
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT id FROM prepaid_outside_refund WHERE package = $1 AND uncovered_fen > 0", package["id"]
        )


async def test_an_operator_marks_what_was_not_covered_as_resolved_once_with_a_note(client, world):
    outside_id = await not_covered(client, world)
    chaoyang = await operator(world, "chaoyang")
    with pytest.raises(Invalid) as short:
        await services.resolve_uncovered(chaoyang, outside_id, "已追回")
    assert short.value.field == "note"
    # Another scope's operator finds no such refund, as with an id no row has.
    for principal, some_id in ((await operator(world, "hebei"), outside_id), (chaoyang, outside_id + 1000)):
        with pytest.raises(NotFound) as missing:
            await services.resolve_uncovered(principal, some_id, NOTE)
        assert missing.value.code == "outside_refund_not_found"
    assert (await services.operator_overview(chaoyang))["uncovered"] == 1
    # The console home's to-do counts it for the operators whose scope holds the provider only.
    for key, waiting in (("chaoyang", 1), ("beijing", 1), ("national", 1), ("hebei", 0), ("shijiazhuang", 0)):
        assert await services.count_uncovered(await operator(world, key)) == waiting, key

    resolved = await services.resolve_uncovered(chaoyang, outside_id, f"  {NOTE}\n")
    assert (resolved["resolved_by"], resolved["resolution_note"]) == (chaoyang.id, NOTE)
    assert await services.count_uncovered(chaoyang) == 0
    overview = await services.operator_overview(chaoyang)
    assert (overview["uncovered"], overview["uncovered_fen"]) == (0, 0)  # the alert is gone
    (row,) = overview["outside"]  # the refund stays listed, resolved, by whom and when
    assert row["resolved_at"] == resolved["resolved_at"] and row["resolved_by_name"] == chaoyang.display_name
    assert row["uncovered_fen"] > 0 and row["resolution_note"] == NOTE
    with pytest.raises(Conflict) as again:
        await services.resolve_uncovered(chaoyang, outside_id, NOTE)
    assert again.value.code == "already_resolved"
    async with engine().transaction() as transaction:
        (event,) = await audit.events(transaction.connection, action="prepaid.uncovered_resolved")
    assert (event["actor_id"], event["subject_id"], event["reason"]) == (chaoyang.id, outside_id, NOTE)
    assert event["details"]["uncovered_fen"] == row["uncovered_fen"]
    assert await services.reconcile() == {}


async def test_the_console_asks_before_marking_resolved_and_another_scope_finds_nothing(client, world):
    outside_id = await not_covered(client, world)
    path = f"/console/prepaid/outside/{outside_id}/resolve"
    await web_login(client, "console", world.operators["hebei"])
    await client.get("/console/prepaid")
    assert (await post(client, path, {"note": NOTE})).status_code == 404
    assert (await post(client, path, {"note": NOTE, "confirm": "1"})).status_code == 404

    await web_login(client, "console", world.operators["chaoyang"])
    page = (await client.get("/console/prepaid")).text
    # A multi-line field with a visible label, as long as the service accepts.
    assert f'<label for="resolve-note-{outside_id}">处理说明（记入审计日志）</label>' in page
    assert re.search(
        rf'<textarea id="resolve-note-{outside_id}" name="note" rows="\d+" minlength="10" maxlength="2000" required>',
        page,
    )
    # Empty, too short or too long: refused at the field, in Chinese, with what was typed kept.
    for note in ("", "已追回", "追" * 2001):
        refused = await post(client, path, {"note": note})
        assert refused.status_code == 422 and 'data-testid="confirm"' not in refused.text
        error = re.search(
            r'<p class="field-error" id="note-error" role="alert" data-testid="field-error">.*?</p>', refused.text, re.S
        )
        assert error and "请用 10 至 2000 个字说明处理情况。" in error.group(0)
        assert re.search(
            rf'<textarea id="resolve-note-{outside_id}" name="note"[^>]* aria-invalid="true" aria-describedby="note-error">{note}</textarea>',
            refused.text,
        )
    # A line break is one character, as the browser's maxlength counts it (a form sends CRLF).
    lines = "\r\n".join(["追" * 199] * 10)  # 1,999 characters as typed, 2,008 as sent
    assert (await post(client, path, {"note": lines})).status_code == 200
    asked = await post(client, path, {"note": NOTE})
    assert asked.status_code == 200 and 'data-testid="confirm"' in asked.text and NOTE in asked.text
    chaoyang = await operator(world, "chaoyang")
    assert (await services.operator_overview(chaoyang))["uncovered"] == 1  # asking changed nothing
    done = await post(client, path, {"note": NOTE, "confirm": "1"})
    assert done.status_code in (302, 303) and done.headers["location"] == "/console/prepaid?done=resolved"
    page = await client.get("/console/prepaid?done=resolved")
    assert 'data-testid="escrow-uncovered-alert"' not in page.text
    assert 'data-testid="resolved"' in page.text and NOTE in page.text and chaoyang.display_name in page.text
    again = await post(client, path, {"note": NOTE, "confirm": "1"})
    assert again.status_code == 409 and 'data-testid="resolve-form"' not in again.text


async def test_the_platforms_own_part_refunds_are_not_followed(client, world):
    offer_id = await prepaid_offer(world, sessions=3)
    package = await buy(await member(world), offer_id)
    await vouchers.redeem(await staff_principal(world), package["code"])
    assert await delist(world.providers["chaoyang"]["id"]) == 1
    assert await services.follow_stripe_refunds(package["payment"]) == 0
    assert await stripe_refunded(package["payment"]) == SHARE - escrow.part(SHARE, 3, 1)
    assert await services.reconcile() == {}


@pytest.mark.browser
async def test_the_operator_sees_what_the_escrow_could_not_cover(client, browser, live_server, world, shots):
    await not_covered(client, world)

    context = await _context(browser, live_server, {"viewport": {"width": 1440, "height": 900}})
    console = await context.new_page()
    _watch(console)
    try:
        await console.goto("/console/login")
        await sign_in(console, world.operators["chaoyang"], PASSWORD)
        # The console home's to-do names it, and leads to the escrow page.
        await console.goto("/console")
        await expect(console.locator("[data-testid=todo-uncovered] [data-testid=todo-count]")).to_have_text("1")
        await expect(console.locator("[data-testid=nav-badge-prepaid]")).to_have_text("1")
        await shots.take(console, "console-home-uncovered")
        await console.locator("[data-testid=todo-uncovered]").click()
        await console.wait_for_url("**/console/prepaid#outside-title")
        await expect(console.locator("[data-testid=escrow-uncovered-alert]")).to_contain_text(
            money.yuan(SHARE - escrow.part(SHARE, 3, 3))
        )
        await expect(console.locator("[data-testid=escrow-outside-row]")).to_have_count(1)
        await shots.take(console, "escrow-uncovered")
        # Recovered from the provider: marked as resolved, with a note and a confirmation.
        await console.locator("[data-testid=resolve-form] textarea[name=note]").fill(NOTE)
        await console.locator("[data-testid=resolve]").click()
        await expect(console.locator("[data-testid=confirm]")).to_contain_text(NOTE)
        await shots.take(console, "escrow-resolve-confirm")
        await console.locator("[data-testid=confirm-yes]").click()
        await expect(console.locator("[data-testid=resolve-done]")).to_be_visible()
        await expect(console.locator("[data-testid=escrow-uncovered-alert]")).to_have_count(0)
        await expect(console.locator("[data-testid=cell-resolution]")).to_contain_text(NOTE)
        await shots.take(console, "escrow-resolved")
        await console.goto("/console")
        await expect(console.locator("[data-testid=todo-uncovered] [data-testid=todo-count]")).to_have_text("0")
        await expect(console.locator("[data-testid=nav-badge-prepaid]")).to_have_count(0)
    finally:
        await context.close()
