"""Payments as the member's payment page and the API see them."""

from datetime import datetime
from typing import Annotated

import msgspec

from catalog import pricing


class PaymentRead(msgspec.Struct, kw_only=True):
    id: int
    order_number: str  # for people: 20261203000042
    voucher_id: int
    offer_id: int
    offer_title_zh: str
    offer_title_en: str | None
    provider_name: str
    amount_fen: int  # the member's share: member price less the union's subsidy (catalog/pricing.py)
    list_price_fen: int
    subsidy_fen: int
    currency: str
    status: str  # pending, succeeded, cancelled, refunding, refunded
    hold_until: datetime  # an unpaid payment is released then
    created_at: datetime
    succeeded_at: datetime | None = None
    refunded_at: datetime | None = None
    # For Stripe.js while the payment is pending (only ever shown to its member).
    client_secret: str | None
    # Why the last attempt failed, as Stripe codes it (card_declined, ...); None otherwise.
    last_error: str | None = None
    publishable_key: str
    payment_methods: list[str]
    test_mode: bool = False  # the Stripe stand-in: its test card form instead of Stripe.js
    refunded_fen: int = 0  # what went back to the member so far (a partial refund leaves the voucher)
    dispute_status: str | None = None  # the member's bank disputes it: needs_response, ..., won, lost

    @property
    def price(self) -> pricing.Price:
        return pricing.price(
            "paid", self.list_price_fen, self.amount_fen + self.subsidy_fen, self.subsidy_fen, paid_fen=self.amount_fen
        )


class PaymentStart(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    slot_id: Annotated[int, msgspec.Meta(gt=0, le=2**63 - 1)] | None = None  # bookings: the chosen slot


class DisputeRead(msgspec.Struct, kw_only=True):
    """A dispute (chargeback) as finance sees it on the console: the member masked."""

    payment_id: int
    order_number: str
    voucher_id: int
    voucher_code: str  # masked: ABCD-****-****-PQ
    voucher_status: str
    member_name: str  # masked: 王*芳
    offer_title_zh: str
    offer_title_en: str | None
    provider_id: int
    provider_name: str
    amount_fen: int  # what the member paid
    disputed_fen: int  # what the bank disputes
    refunded_fen: int
    reason: str | None  # Stripe's: fraudulent, product_not_received, duplicate, ...
    status: str  # Stripe's: needs_response, under_review, won, lost, ...
    stripe_dispute_id: str | None
    disputed_at: datetime
    closed_at: datetime | None = None
    redeemed_at: datetime | None = None
