"""Money that moves in Stripe after the fact: a refund (full or partial) made after the
provider's statement was approved is carried to its next statement as a correction, never
written into the approved one; a partial refund shows on the order, the statement and the
reports to the fen; a dispute holds the voucher, is shown to finance on the console and to
the member, and its end releases the voucher or returns the money; the daily
reconciliation repairs a partial refund whose webhook was lost. Payments never write the
voucher table themselves."""

import re
from datetime import timedelta
from pathlib import Path

import pytest

from marketplace import money
from marketplace.db import engine
from marketplace.federation import services as federation
from marketplace.payments import services as payments
from marketplace.payments.tables import Payment, StripeEvent
from marketplace.reports import services as reports
from marketplace.vouchers import services as vouchers
from providers.settlements import drafting as statements
from providers.settlements import services as settlements
from tests.payments.stripe_helpers import pay_at_stripe, signed
from tests.payments.test_payments import SHARE, paid_offer, voucher_status
from tests.evaluation.test_quality_pages import member_login
from tests.providers.test_pages import HTML, _login
from tests.settlements.helpers import move_redemption, operator_principal, provider_principal, set_account, value
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
    return {"id": "ch_dashboard", "object": "charge", "payment_intent": intent_id, "amount": SHARE,
            "amount_refunded": total, "refunded": total >= SHARE,
            "refunds": {"data": [{"id": refund.id} for refund in refunds]}}


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
    return await value("SELECT id FROM settlement_statement WHERE provider = $1 AND period = $2",
                       world.providers["chaoyang"]["id"], period)


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
    assert [(c.amount_fen, c.reason, c.carried_to_period) for c in kept.later_corrections] == [
        (-SHARE, "refund", None)]

    # Next month: another member's voucher, and the correction carried onto its statement.
    second = await _bought(world, "haidian")
    await _redeemed_in(world, second, last)
    drafted = await statements.draft_month(last)
    assert drafted.created == [world.providers["chaoyang"]["id"]]
    following = await settlements.statement_for_operator(operator, await _statement(world, last))
    assert [(c.amount_fen, c.settled_period, c.voucher_id) for c in following.adjustments] == [
        (-SHARE, earlier, first["voucher"])]
    assert (following.subsidy_fen, following.paid_fen, following.adjustment_fen, following.total_fen) == (
        SUBSIDY, SHARE, -SHARE, SUBSIDY)
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
        assert await transaction.connection.fetchval(
            "SELECT count(*) FROM notification WHERE member = $1 AND kind = 'refund_sent'",
            world.members["chaoyang"][0]) == 2


async def test_a_dispute_holds_the_voucher_shows_on_the_console_and_its_end_releases_or_refunds(client, world):
    offer_id = await paid_offer(world)
    row = await _bought(world)
    dispute = {"id": "dp_1", "object": "dispute", "charge": "ch_x", "payment_intent": row["payment_intent"],
               "amount": SHARE, "reason": "product_not_received", "status": "needs_response"}
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
        assert await transaction.connection.fetchval(
            "SELECT count(*) FROM notification WHERE member = $1 AND kind = 'payment_disputed'",
            world.members["chaoyang"][0]) == 1

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
