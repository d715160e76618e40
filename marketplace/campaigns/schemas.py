"""Campaigns as operators create and read them. Money is integer fen (CNY)."""

from datetime import date, datetime
from typing import Annotated

import msgspec

Fen = Annotated[int, msgspec.Meta(ge=1, le=10**12)]


class CampaignCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    node_id: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]
    name_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    starts_at: datetime
    ends_at: datetime
    budget_fen: Fen
    per_member_cap_fen: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    groups: list[Annotated[str, msgspec.Meta(min_length=1, max_length=32)]] = []  # empty: every member
    offer_ids: list[Annotated[int, msgspec.Meta(gt=0, le=2**63 - 1)]] = []
    category_ids: list[Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]] = []


class CampaignRead(msgspec.Struct, kw_only=True):
    id: int
    node_id: int
    node_name_zh: str
    node_name_en: str
    name_zh: str
    name_en: str
    starts_at: datetime
    ends_at: datetime
    groups: list[str]
    offer_ids: list[int]
    category_ids: list[int]
    budget_fen: int
    spent_fen: int
    remaining_fen: int
    per_member_cap_fen: int
    status: str  # active, paused, ended (as stored; `running` says whether it pays now)
    running: bool  # active and inside its period
    created_at: datetime


class DayBurn(msgspec.Struct, kw_only=True):
    day: date  # in Shanghai
    spent_fen: int  # drawn that day and not given back since
    cumulative_fen: int


class FundsFlow(msgspec.Struct, kw_only=True):
    payer_node_id: int  # the campaign's node: whose money
    payer_name_zh: str
    payer_name_en: str
    member_node_id: int  # the member's union: where it went
    member_node_name_zh: str
    member_node_name_en: str
    vouchers: int
    amount_fen: int


class CampaignDetail(msgspec.Struct, kw_only=True):
    campaign: CampaignRead
    burn: list[DayBurn]
    funds: list[FundsFlow]
    vouchers: int  # vouchers it currently pays for
    members: int  # members who drew from it
