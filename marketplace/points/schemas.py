"""Points as members and operators see them."""

from datetime import datetime
from typing import Annotated

import msgspec


class EntryRead(msgspec.Struct, kw_only=True):
    id: int
    kind: str  # grant, earn, spend, refund, expire, adjust
    amount: int  # signed: what the entry added to the balance
    reason: str | None
    voucher_id: int | None
    created_at: datetime


class PointsRead(msgspec.Struct, kw_only=True):
    balance: int
    next_expiry: datetime | None  # when the lot that expires first runs out
    next_expiry_points: int
    entries: list[EntryRead]


class BalanceRead(msgspec.Struct, kw_only=True, omit_defaults=True):
    member_id: int
    balance: int
    # Set when the adjustment waits for a second operator (more than the approval threshold).
    approval_id: int | None = None


class GrantRead(msgspec.Struct, kw_only=True):
    id: int
    node: int
    node_name_zh: str
    node_name_en: str
    member_group: str | None
    amount: int
    reason: str
    status: str  # pending (a second operator approves it), rejected, queued, running, done
    members_total: int
    members_done: int
    created_at: datetime
    finished_at: datetime | None


class GrantCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    node_id: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]
    amount: Annotated[int, msgspec.Meta(ge=1, le=100_000)]  # points per member
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=500)]
    member_group: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None


class AdjustInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    amount: Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)]  # signed; not zero
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=500)]
