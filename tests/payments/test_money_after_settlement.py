"""Money that moves in Stripe after the fact: a refund (full or partial) made after the
provider's statement was approved is carried to its next statement as a correction, never
written into the approved one; a partial refund shows on the order, the statement and the
reports to the fen; a dispute holds the voucher, is shown to finance on the console and to
the member, and its end releases the voucher or returns the money; the daily
reconciliation repairs a partial refund whose webhook was lost. Payments never write the
voucher table themselves."""

import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from marketplace.core import dates, money
from marketplace.core.db import engine
from marketplace.core.errors import Conflict
from marketplace.core.federation import services as federation
from marketplace.core.identity import approvals
from marketplace.core.jobs import topics
from marketplace.payments import services as payments
from marketplace.payments.tables import Payment, StripeEvent
from marketplace.reports import services as reports
from marketplace.vouchers import services as vouchers
from providers.settlements import drafting as statements, payouts, services as settlements
from tests.evaluation.test_quality_pages import member_login
from tests.payments.stripe_helpers import pay_at_stripe, signed
from tests.payments.test_payments import SHARE, paid_offer, voucher_status
from tests.providers.test_pages import HTML, _login
from tests.settlements.helpers import (
    execute,
    move_redemption,
    operator_principal,
    provider_principal,
    set_account,
    value,
)
from tests.test_errors import assert_problem, bearer
from tests.vouchers.test_claims import stock_left

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]
ACCOUNT = "acct_1Nv0FGQ9RKHgCVdK"
SUBSIDY = 3000


async def _bought(world, key: str = "chaoyang") -> dict:
    """A member of `key` buys the world's public offer (paid) and pays it; the payment row."""
    offer_id = world.offers["public"]
    buyer = await federation.member_principal(world.members[key][0])
    started = await payments.start(buyer, offer_id)
    row = await Payment.select().where(Payment.id == started.id).first()
    assert await pay_at_stripe(row["payment_intent"]) == "succeeded"
    await payments.check_return(buyer, started.id)
    assert await voucher_status(started.voucher_id) == "issued"
    return row


async def _redeemed_in(world, row: dict, period: str) -> None:
    code = await value("SELECT code FROM voucher WHERE id = $1", row["voucher"])
    await vouchers.redeem(await provider_principal(world, "chaoyang", "staff"), code)
    await move_redemption(row["voucher"], settlements.period_bounds(period)[0] + timedelta(days=2))


async def _refund_in_stripe(intent_id: str, amount: int | None = None) -> dict:
    """What an operator does in the Stripe dashboard; the charge as `charge.refunded` carries it."""
    client = payments.stripe_client()
    await client.v1.refunds.create_async({"payment_intent": intent_id, **({"amount": amount} if amount else {})})
    refunds = (await client.v1.refunds.list_async({"payment_intent": intent_id})).data
    total = sum(refund.amount for refund in refunds)
    return {
        "id": "ch_dashboard",
        "object": "charge",
        "payment_intent": intent_id,
        "amount": SHARE,
        "amount_refunded": total,
        "refunded": total >= SHARE,
        "refunds": {"data": [{"id": refund.id} for refund in refunds]},
    }


async def _deliver(client, event_type: str, obj: dict) -> str:
    payload, headers = signed(event_type, obj)
    response = await client.post("/api/v1/stripe/webhook", content=payload, headers=headers)
    assert response.status_code == 200, response.text
    stored = await StripeEvent.select(StripeEvent.id).order_by(StripeEvent.id, ascending=False).first()
    return await payments.apply_event(stored["id"])


def _periods() -> tuple[str, str]:
    """Two months that are over: the one before last (settled first) and last month."""
    last = settlements.previous_period()
    return settlements.previous_period(settlements.period_bounds(last)[0]), last


async def _statement(world, period: str) -> int:
    return await value(
        "SELECT id FROM settlement_statement WHERE provider = $1 AND period = $2",
        world.providers["chaoyang"]["id"],
        period,
    )


async def test_a_refund_after_approval_is_carried_to_the_next_statement_never_into_the_approved_one(client, world):
    await paid_offer(world)
    earlier, last = _periods()
    first = await _bought(world)
    await _redeemed_in(world, first, earlier)
    await statements.draft_month(earlier)
    await set_account(world, ACCOUNT)
    operator = await operator_principal(world, "chaoyang")
    approved = await settlements.approve(operator, await _statement(world, earlier))
    assert approved.total_fen == SUBSIDY + SHARE

    charge = await _refund_in_stripe(first["payment_intent"])
    assert await _deliver(client, "charge.refunded", charge) == "refunded_after_use"
    assert await _deliver(client, "charge.refunded", charge) == "already_done"
    kept = await settlements.statement_for_operator(operator, approved.id)
    assert (kept.status, kept.total_fen, kept.paid_fen, kept.revision) == ("approved", SUBSIDY + SHARE, SHARE, 1)
    assert [(c.amount_fen, c.reason, c.carried_to_period) for c in kept.later_corrections] == [(-SHARE, "refund", None)]

    # Next month: another member's voucher, and the correction carried onto its statement.
    second = await _bought(world, "haidian")
    await _redeemed_in(world, second, last)
    drafted = await statements.draft_month(last)
    assert drafted.created == [world.providers["chaoyang"]["id"]]
    following = await settlements.statement_for_operator(operator, await _statement(world, last))
    assert [(c.amount_fen, c.settled_period, c.voucher_id) for c in following.adjustments] == [
        (-SHARE, earlier, first["voucher"])
    ]
    assert (following.subsidy_fen, following.paid_fen, following.adjustment_fen, following.total_fen) == (
        SUBSIDY,
        SHARE,
        -SHARE,
        SUBSIDY,
    )
    # Drafting again carries nothing twice.
    assert (await statements.draft_month(last)).unchanged == [world.providers["chaoyang"]["id"]]
    assert await value("SELECT count(*) FROM settlement_adjustment") == 1

    # Both pages show it: the operator's and the provider owner's.
    await _login(client, "console", world.operators["chaoyang"])
    page = await client.get(f"/console/settlements/{following.id}", headers=HTML)
    assert page.status_code == 200 and 'data-testid="statement-adjustment"' in page.text
    assert money.yuan(-SHARE) in page.text, page.text
    earlier_page = await client.get(f"/console/settlements/{approved.id}", headers=HTML)
    assert 'data-testid="later-correction"' in earlier_page.text and last in earlier_page.text
    csv_text = (await client.get(f"/console/settlements/{following.id}/statement.csv")).content.decode("utf-8-sig")
    assert "-69.00" in csv_text and csv_text.strip().splitlines()[-1].endswith(",30.00")
    client.cookies.clear()
    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    owner_page = await client.get(f"/provider/settlements/{following.id}", headers=HTML)
    assert owner_page.status_code == 200 and 'data-testid="statement-adjustment"' in owner_page.text


async def test_a_partial_refund_shows_on_the_order_the_statement_and_the_reports_to_the_fen(client, world):
    await paid_offer(world)
    _, last = _periods()
    row = await _bought(world)
    await _redeemed_in(world, row, last)
    await statements.draft_month(last)
    statement_id = await _statement(world, last)

    charge = await _refund_in_stripe(row["payment_intent"], 1234)
    assert await _deliver(client, "charge.refunded", charge) == "partial_refund_recorded"
    assert await _deliver(client, "charge.refunded", charge) == "already_done"
    payment = await Payment.select().where(Payment.id == row["id"]).first()
    assert (payment["status"], payment["refunded_fen"]) == ("succeeded", 1234)
    assert await voucher_status(row["voucher"]) == "redeemed"
    buyer = await federation.member_principal(world.members["chaoyang"][0])
    assert (await payments.my_payment(buyer, row["id"])).refunded_fen == 1234
    assert (await vouchers.my_voucher(buyer, row["voucher"])).refunded_fen == 1234
    # The draft holding the voucher is corrected in place (a new revision: look again before approving).
    operator = await operator_principal(world, "chaoyang")
    draft = await settlements.statement_for_operator(operator, statement_id)
    assert (draft.paid_fen, draft.total_fen, draft.revision) == (SHARE - 1234, SUBSIDY + SHARE - 1234, 2)
    assert (await statements.draft_month(last)).unchanged == [world.providers["chaoyang"]["id"]]
    # The reports count what the member kept paying.
    await reports.refresh(full=True)
    assert await value("SELECT sum(paid_fen)::int FROM report_usage_daily WHERE member_group = '*'") == SHARE - 1234

    # After approval, a second partial refund becomes a correction for the next statement.
    await set_account(world, ACCOUNT)
    await settlements.approve(operator, statement_id)
    charge = await _refund_in_stripe(row["payment_intent"], 766)
    assert await _deliver(client, "charge.refunded", charge) == "partial_refund_recorded"
    assert await value("SELECT amount_fen FROM settlement_adjustment WHERE voucher_id = $1", row["voucher"]) == -766
    assert (await settlements.statement_for_operator(operator, statement_id)).total_fen == SUBSIDY + SHARE - 1234
    # The member's order page says how much came back; the inbox told them each time.
    await member_login(client, world)
    order = await client.get(f"/payments/{row['id']}", headers=HTML)
    assert order.status_code == 200 and 'data-testid="refunded-amount"' in order.text
    assert money.yuan(2000) in order.text
    async with engine().transaction() as transaction:
        assert (
            await transaction.connection.fetchval(
                "SELECT count(*) FROM notification WHERE member = $1 AND kind = 'refund_sent'",
                world.members["chaoyang"][0],
            )
            == 2
        )


async def test_a_statement_left_owing_back_is_closed_by_two_operators_and_its_balance_carried_on(client, world):
    """A refund after approval takes the next statement below zero: it is never approved nor
    paid; two operators close it as nothing to pay and what the provider still owes back is
    carried to the statement after it, shown on both: no fen is lost."""
    await paid_offer(world)
    earlier, last = _periods()
    first_month = settlements.previous_period(settlements.period_bounds(earlier)[0])
    first = await _bought(world)
    await _redeemed_in(world, first, first_month)
    await statements.draft_month(first_month)
    await set_account(world, ACCOUNT)
    operator, second_operator = await operator_principal(world, "chaoyang"), await operator_principal(world, "beijing")
    approved = await settlements.approve(operator, await _statement(world, first_month))
    charge = await _refund_in_stripe(first["payment_intent"])
    assert await _deliver(client, "charge.refunded", charge) == "refunded_after_use"

    # The month after has no redemption: its statement holds only the correction.
    await statements.draft_month(earlier)
    owing = await settlements.statement_for_operator(operator, await _statement(world, earlier))
    assert (owing.status, owing.voucher_count, owing.total_fen) == ("draft", 0, -SHARE)
    with pytest.raises(Conflict) as refused:
        await settlements.approve(operator, owing.id)
    assert refused.value.code == "nothing_to_settle"
    token = await bearer(client, "operator", world.operators["chaoyang"])
    assert_problem(
        await client.post(f"/api/v1/console/settlements/{owing.id}/approve", headers=token), 409, "nothing_to_settle"
    )
    await _login(client, "console", world.operators["chaoyang"])
    page = await client.get(f"/console/settlements/{owing.id}", headers=HTML)
    assert 'data-testid="nothing-to-pay"' in page.text and 'data-testid="close"' in page.text
    assert 'data-testid="approve"' not in page.text

    # Four eyes: one operator proposes closing it, the same one cannot approve, another does.
    with pytest.raises(Conflict) as owed:
        await settlements.propose_close(operator, approved.id)
    assert owed.value.code == "status_conflict"
    proposal = await settlements.propose_close(operator, owing.id, owing.revision)
    with pytest.raises(Conflict) as twice:
        await settlements.propose_close(operator, owing.id)
    assert twice.value.code == "close_pending"
    page = await client.get(f"/console/settlements/{owing.id}", headers=HTML)
    assert 'data-testid="pending-close"' in page.text
    with pytest.raises(Conflict) as own:
        await approvals.decide(operator, proposal["id"], True)
    assert own.value.code == "own_proposal"
    await approvals.decide(second_operator, proposal["id"], True)
    closed = await settlements.statement_for_operator(operator, owing.id)
    assert (closed.status, closed.total_fen, closed.paid_at, closed.payout_reference) == ("closed", -SHARE, None, None)
    assert [(c.amount_fen, c.reason, c.voucher_id, c.carried_to_period) for c in closed.later_corrections] == [
        (-SHARE, "balance_carried", None, None)
    ]
    with pytest.raises(Conflict):
        await settlements.pay(second_operator, owing.id, payouts.configured_gateway())

    # The month after that: the balance is taken from what it owes, once.
    second = await _bought(world, "haidian")
    await _redeemed_in(world, second, last)
    await statements.draft_month(last)
    following = await settlements.statement_for_operator(operator, await _statement(world, last))
    assert [(c.amount_fen, c.reason, c.settled_period) for c in following.adjustments] == [
        (-SHARE, "balance_carried", earlier)
    ]
    assert (following.subsidy_fen, following.paid_fen, following.total_fen) == (SUBSIDY, SHARE, SUBSIDY)
    with pytest.raises(Conflict) as positive:
        await settlements.propose_close(operator, following.id)
    assert positive.value.code == "money_owed"
    closed = await settlements.statement_for_operator(operator, owing.id)
    assert [c.carried_to_period for c in closed.later_corrections] == [last]
    # Paid in all: the first month's whole amount and the last month's subsidy, which is
    # what the provider earned (two subsidies and the second member's share) to the fen.
    assert approved.total_fen + closed.total_fen + following.total_fen + SHARE == 2 * SUBSIDY + SHARE

    # Both statements show it, to the operator and to the provider's owner.
    closed_page = await client.get(f"/console/settlements/{owing.id}", headers=HTML)
    assert 'data-testid="later-correction"' in closed_page.text and last in closed_page.text
    assert 'data-status="closed"' in closed_page.text and 'data-testid="close"' not in closed_page.text
    following_page = await client.get(f"/console/settlements/{following.id}", headers=HTML)
    assert 'data-testid="statement-adjustment"' in following_page.text and earlier in following_page.text
    client.cookies.clear()
    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    for statement_id in (owing.id, following.id):
        owner_page = await client.get(f"/provider/settlements/{statement_id}", headers=HTML)
        assert owner_page.status_code == 200 and money.yuan(-SHARE) in owner_page.text


async def test_a_dispute_holds_the_voucher_shows_on_the_console_and_its_end_releases_or_refunds(client, world):
    offer_id = await paid_offer(world)
    row = await _bought(world)
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "charge": "ch_x",
        "payment_intent": row["payment_intent"],
        "amount": SHARE,
        "reason": "product_not_received",
        "status": "needs_response",
    }
    assert await _deliver(client, "charge.dispute.created", dispute) == "flagged"
    assert await _deliver(client, "charge.dispute.created", dispute) == "updated"
    code = await value("SELECT code FROM voucher WHERE id = $1", row["voucher"])
    staff = await provider_principal(world, "chaoyang", "staff")
    with pytest.raises(Exception) as refused:
        await vouchers.redeem(staff, code)
    assert refused.value.code == "disputed" and refused.value.status == 409
    assert (await vouchers.inspect(staff, code)).disputed
    buyer = await federation.member_principal(world.members["chaoyang"][0])
    with pytest.raises(Exception) as not_cancelled:
        await vouchers.cancel(buyer, row["voucher"])
    assert not_cancelled.value.code == "disputed"
    assert (await vouchers.my_voucher(buyer, row["voucher"])).disputed
    async with engine().transaction() as transaction:
        assert (
            await transaction.connection.fetchval(
                "SELECT count(*) FROM notification WHERE member = $1 AND kind = 'payment_disputed'",
                world.members["chaoyang"][0],
            )
            == 1
        )

    # Finance sees it: the to-do count, the list and the detail, the member masked.
    operator = await operator_principal(world, "chaoyang")
    assert await payments.count_open_disputes(operator) == 1
    assert await payments.count_open_disputes(await operator_principal(world, "hebei")) == 0
    await _login(client, "console", world.operators["chaoyang"])
    home = await client.get("/console", headers=HTML)
    assert "/console/disputes" in home.text
    listing = await client.get("/console/disputes", headers=HTML)
    assert listing.status_code == 200 and 'data-testid="dispute-row"' in listing.text
    assert "王*芳" in listing.text and "王小芳" not in listing.text and money.yuan(SHARE) in listing.text
    detail = await client.get(f"/console/disputes/{row['id']}", headers=HTML)
    assert detail.status_code == 200 and "dp_1" in detail.text and "王*芳" in detail.text
    assert 'data-testid="dispute-reason"' in detail.text
    outsider = await client.get("/console/disputes/999999", headers=HTML)
    assert outsider.status_code == 404

    # The member sees why the voucher waits, on the voucher and on the order.
    client.cookies.clear()
    await member_login(client, world)
    voucher_page = await client.get(f"/vouchers/{row['voucher']}", headers=HTML)
    assert 'data-testid="voucher-disputed"' in voucher_page.text
    order = await client.get(f"/payments/{row['id']}", headers=HTML)
    assert 'data-testid="payment-disputed"' in order.text

    # The daily reconciliation asks Stripe about open disputes; the stand-in has none to
    # answer, which is reported rather than taken as "in step".
    assert (await payments.reconcile_with_stripe()).get("dispute_unchecked") == 1

    # Won: the voucher can be used again.
    assert await _deliver(client, "charge.dispute.closed", {**dispute, "status": "won"}) == "dispute_won"
    assert await payments.count_open_disputes(operator) == 0
    await vouchers.redeem(staff, code)
    assert await voucher_status(row["voucher"]) == "redeemed"

    # Lost (another member's voucher, unused): the money went back, as a full refund.
    other = await _bought(world, "haidian")
    lost = {**dispute, "id": "dp_2", "payment_intent": other["payment_intent"], "reason": "fraudulent"}
    assert await _deliver(client, "charge.dispute.created", lost) == "flagged"
    assert await _deliver(client, "charge.dispute.closed", {**lost, "status": "lost"}) == "dispute_lost"
    assert await _deliver(client, "charge.dispute.closed", {**lost, "status": "lost"}) == "already_done"
    assert await voucher_status(other["voucher"]) == "refunded"
    payment = await Payment.select().where(Payment.id == other["id"]).first()
    assert (payment["status"], payment["refunded_fen"], payment["dispute_status"]) == ("refunded", SHARE, "lost")
    assert await stock_left(offer_id) == 99  # the first voucher holds one; the lost one came back
    # The reconciliation does not take a dispute lost for a refund missing in Stripe.
    assert (await payments.reconcile_with_stripe()).get("refund_missing_at_stripe") is None


async def test_a_disputed_voucher_does_not_expire_its_clock_pauses_until_the_bank_decides(client, world):
    await paid_offer(world)
    row = await _bought(world)
    dispute = {
        "id": "dp_p",
        "object": "dispute",
        "charge": "ch_x",
        "payment_intent": row["payment_intent"],
        "amount": SHARE,
        "reason": "product_not_received",
        "status": "needs_response",
    }
    assert await _deliver(client, "charge.dispute.created", dispute) == "flagged"
    # The dispute opened ten days ago, with nine days of the voucher left; that day is past now.
    await execute(
        "UPDATE voucher SET disputed_at = now() - interval '10 days', expires_at = now() - interval '1 day' "
        "WHERE id = $1",
        row["voucher"],
    )
    await vouchers.expire_vouchers()
    assert await voucher_status(row["voucher"]) == "issued"

    # Won: the nine days come back, to the end of that day; the member can use it again.
    assert await _deliver(client, "charge.dispute.closed", {**dispute, "status": "won"}) == "dispute_won"
    expires_at = await value("SELECT expires_at FROM voucher WHERE id = $1", row["voucher"])
    assert expires_at - datetime.now(UTC) > timedelta(days=9) - timedelta(minutes=1)
    assert expires_at - datetime.now(UTC) <= timedelta(days=10)
    assert dates.local(expires_at).time() == time(0, 0)  # whole days, as every voucher
    await vouchers.expire_vouchers()
    code = await value("SELECT code FROM voucher WHERE id = $1", row["voucher"])
    await vouchers.redeem(await provider_principal(world, "chaoyang", "staff"), code)
    assert await voucher_status(row["voucher"]) == "redeemed"


@pytest.mark.parametrize("outcome", ["won", "lost"])
async def test_delisting_leaves_a_disputed_voucher_to_the_banks_decision(client, world, outcome):
    """Delisted with its vouchers cancelled: the undisputed one is cancelled and refunded at
    once; the disputed one stays held. Won by the provider: it is cancelled and refunded
    then, as the delisting asked; lost: the bank returned the money, refunded once."""
    await paid_offer(world)
    disputed, plain = await _bought(world), await _bought(world, "haidian")
    dispute = {
        "id": "dp_d",
        "object": "dispute",
        "charge": "ch_x",
        "payment_intent": disputed["payment_intent"],
        "amount": SHARE,
        "reason": "fraudulent",
        "status": "needs_response",
    }
    assert await _deliver(client, "charge.dispute.created", dispute) == "flagged"

    assert await vouchers.cancel_for_provider(world.providers["chaoyang"]["id"]) == 1
    assert await voucher_status(plain["voucher"]) == "cancelled"
    assert await voucher_status(disputed["voucher"]) == "issued"
    assert await _refund_asked(disputed["voucher"]) == 0 and await _refund_asked(plain["voucher"]) == 1

    assert await _deliver(client, "charge.dispute.closed", {**dispute, "status": outcome}) == f"dispute_{outcome}"
    if outcome == "won":
        assert await voucher_status(disputed["voucher"]) == "cancelled"
        assert await _refund_asked(disputed["voucher"]) == 1
    else:
        assert await voucher_status(disputed["voucher"]) == "refunded"
        assert await _refund_asked(disputed["voucher"]) == 0  # the bank returned it; never twice
        payment = await Payment.select().where(Payment.id == disputed["id"]).first()
        assert (payment["status"], payment["refunded_fen"]) == ("refunded", SHARE)


async def _refund_asked(voucher_id: int) -> int:
    """How many times the vouchers domain asked payments to refund the voucher."""
    return await value(
        "SELECT count(*) FROM outbox_event WHERE topic = $1 AND (payload->>'voucher_id')::bigint = $2",
        topics.PaidVoucherCancelled.topic,
        voucher_id,
    )


async def test_the_reconciliation_applies_a_partial_refund_whose_webhook_was_lost(world):
    await paid_offer(world)
    row = await _bought(world)
    await payments.stripe_client().v1.refunds.create_async({"payment_intent": row["payment_intent"], "amount": 500})
    assert await payments.reconcile_with_stripe() == {"partial_refund_applied": 1}
    payment = await Payment.select().where(Payment.id == row["id"]).first()
    assert (payment["status"], payment["refunded_fen"]) == ("succeeded", 500)
    assert await value("SELECT refunded_fen FROM voucher WHERE id = $1", row["voucher"]) == 500
    assert await voucher_status(row["voucher"]) == "issued"
    assert await payments.reconcile_with_stripe() == {"in_step": 1}


def test_payments_write_no_voucher_rows():
    """The voucher table is the vouchers domain's: payments call its functions, sharing the transaction."""
    source = "\n".join(path.read_text() for path in Path(payments.__file__).parent.glob("*.py"))
    assert not re.findall(r"(?i)(UPDATE\s+voucher\b|INSERT\s+INTO\s+voucher\b|DELETE\s+FROM\s+voucher\b)", source)
