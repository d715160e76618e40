from piccolo.columns import JSONB, BigSerial, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table

from marketplace.core.federation.tables import Member
from marketplace.vouchers.tables import Voucher


class Payment(Table, tablename="payment"):
    """The member's share of a paid offer, charged through a Stripe PaymentIntent. Its
    voucher waits as `pending`, holding the stock, until the payment succeeds."""

    id = BigSerial(primary_key=True)
    voucher = ForeignKey(Voucher, null=False)
    member = ForeignKey(Member, null=False)
    amount_fen = Integer()
    currency = Varchar(length=3, default="cny")
    payment_intent = Varchar(length=255, null=True, default=None)
    status = Varchar(length=16, default="pending")  # pending, succeeded, cancelled, refunding, refunded
    hold_until = Timestamptz()
    created_at = Timestamptz()
    succeeded_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    refund_id = Varchar(length=255, null=True, default=None)
    refunded_at = Timestamptz(null=True, default=None)
    # A dispute (chargeback) the member's bank opened in Stripe: flagged, for finance to answer.
    disputed_at = Timestamptz(null=True, default=None)
    dispute_id = Varchar(length=255, null=True, default=None)
    # Stripe's word on it: needs_response, under_review, won, lost...; its reason
    # (fraudulent, product_not_received...), the amount disputed, when it closed.
    dispute_status = Varchar(length=32, null=True, default=None)
    dispute_reason = Varchar(length=64, null=True, default=None)
    dispute_amount_fen = Integer(null=True, default=None)
    dispute_closed_at = Timestamptz(null=True, default=None)
    # How much of `amount_fen` went back to the member, partial refunds included.
    refunded_fen = Integer(default=0)


class StripeEvent(Table, tablename="stripe_event"):
    id = BigSerial(primary_key=True)
    event_id = Varchar(length=255)
    type = Varchar(length=100)
    payload = JSONB()
    received_at = Timestamptz()
    processed_at = Timestamptz(null=True, default=None)
