"""Payments as the member's payment page and the API see them."""

from datetime import datetime
from typing import Annotated

import msgspec


class PaymentRead(msgspec.Struct, kw_only=True):
    id: int
    voucher_id: int
    offer_id: int
    offer_title_zh: str
    offer_title_en: str | None
    provider_name: str
    amount_fen: int  # the member's share: member price less the union's subsidy
    currency: str
    status: str  # pending, succeeded, cancelled, refunding, refunded
    hold_until: datetime  # an unpaid payment is released then
    # For Stripe.js while the payment is pending (only ever shown to its member).
    client_secret: str | None
    publishable_key: str
    payment_methods: list[str]


class PaymentStart(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    slot_id: Annotated[int, msgspec.Meta(gt=0, le=2**63 - 1)] | None = None  # bookings: the chosen slot
