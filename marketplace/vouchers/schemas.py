"""Vouchers as members and counter staff see them."""

from datetime import datetime
from typing import Annotated

import msgspec

from catalog import pricing


class VoucherRead(msgspec.Struct, kw_only=True):
    id: int
    code: str
    code_display: str  # grouped for reading aloud: ABCD-EFGH-JKMN-PQ
    offer_id: int
    offer_title_zh: str
    offer_title_en: str | None
    provider_id: int
    provider_name: str
    kind: str
    # The price (catalog/pricing.py): the offer's list and member price, and what the voucher
    # recorded at claim time: the union's subsidy, the member's payment online, the points.
    list_price_fen: int
    member_price_fen: int
    subsidy_fen: int
    paid_fen: int
    points_spent: int
    status: str  # pending (paid, awaiting payment), issued, redeemed, cancelled, expired, refunded
    claimed_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None = None
    redeemed_location: str | None = None  # where it was used
    cancelled_at: datetime | None = None
    honoured: bool | None = None
    # A booking: the slot the member booked.
    slot_starts_at: datetime | None = None
    slot_ends_at: datetime | None = None
    # What of paid_fen went back to the member (a partial or full refund).
    refunded_fen: int = 0
    # The member's bank disputes the payment: the voucher cannot be used until it is settled.
    disputed: bool = False

    @property
    def price(self) -> pricing.Price:
        """As recorded at claim time: a paid voucher shows what was charged."""
        return pricing.price(
            self.kind,
            self.list_price_fen,
            self.member_price_fen,
            self.subsidy_fen,
            self.points_spent or None,
            paid_fen=self.paid_fen if self.kind == "paid" else None,
        )


class ClaimState(msgspec.Struct, kw_only=True):
    """What a member can do on an offer's page now (the offer page's action block)."""

    state: str  # upcoming, open, held, pending_payment, sold_out, no_slots
    held: int = 0  # claims counted in the member's current limit window
    limit: int = 1
    limit_period: str = "total"
    voucher_id: int | None = None  # the member's latest live voucher of the offer
    alert_set: bool = False  # a restock alert is waiting
    points_balance: int | None = None  # points offers: the member's balance


class CounterVoucher(msgspec.Struct, kw_only=True):
    """What the front desk sees of a member's voucher: never the member's full name."""

    code_display: str
    offer_id: int
    offer_title_zh: str
    offer_title_en: str | None
    member_name: str  # masked: 王*芳
    status: str
    expires_at: datetime
    redeemed_at: datetime | None = None
    kind: str = "voucher"  # the offer's kind: prepaid ("paid") and points vouchers say so at the counter
    paid_fen: int = 0  # what the member already paid online
    points_spent: int = 0
    subsidy_fen: int = 0
    redeemed_location: str | None = None  # where and by whom it was redeemed (a second use shows them)
    redeemed_by: str | None = None
    disputed: bool = False  # the payment is disputed: the counter may not redeem it
    # A prepaid package's use (marketplace/prepaid): which session this was and how many are
    # left (None for a period membership).
    session: int | None = None
    sessions_left: int | None = None


class ClaimInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    slot_id: Annotated[int, msgspec.Meta(gt=0, le=2**63 - 1)] | None = None  # bookings: the chosen slot


class CodeInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]  # as typed or scanned


class RedeemInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    location_id: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)] | None = None  # one of the provider's locations


class HonouredInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    honoured: bool
