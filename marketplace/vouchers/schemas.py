"""Vouchers as members and counter staff see them."""

from datetime import datetime
from typing import Annotated

import msgspec


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
    member_price_fen: int
    status: str  # pending (paid, awaiting payment), issued, redeemed, cancelled, expired, refunded
    claimed_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None = None
    honoured: bool | None = None


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


class ClaimInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    slot_id: Annotated[int, msgspec.Meta(gt=0, le=2**63 - 1)] | None = None  # bookings: the chosen slot


class CodeInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]  # as typed or scanned


class RedeemInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    location_id: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)] | None = None  # one of the provider's locations


class HonouredInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    honoured: bool
