"""Campaigns as operators create and read them. Money is integer fen (CNY)."""

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

Fen = Annotated[int, msgspec.Meta(ge=1, le=10**12)]
NodeId = Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]
MAX_SHARES = 6


class ShareCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A funding node and its part of every use: `percent_bp` (basis points of what the fixed
    parts leave; the percent shares add up to 10000) or `fixed_fen` per use, not both."""

    node_id: NodeId
    budget_fen: Fen
    percent_bp: Annotated[int, msgspec.Meta(ge=0, le=10000)] = 0
    fixed_fen: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] = 0


class CampaignCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    node_id: NodeId  # the union whose members the campaign serves (with every union under it)
    name_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    starts_at: datetime
    ends_at: datetime
    # Without shares: the node pays 100 % from this budget. With shares: their sum (may be left out).
    budget_fen: Fen | None = None
    shares: Annotated[list[ShareCreate], msgspec.Meta(max_length=MAX_SHARES)] = []
    policy: Literal["stop", "cover"] = "stop"  # when a share runs out: stop paying, or the others cover
    per_member_cap_fen: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    groups: list[Annotated[str, msgspec.Meta(min_length=1, max_length=32)]] = []  # empty: every member
    offer_ids: list[Annotated[int, msgspec.Meta(gt=0, le=2**63 - 1)]] = []
    category_ids: list[Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]] = []


class ShareUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    node_id: NodeId
    budget_fen: Fen


class CampaignFunding(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A running campaign's funding changed: the policy, and each share's budget (never
    below what it has spent). Parts stay as created: past uses keep their split."""

    policy: Literal["stop", "cover"]
    shares: Annotated[list[ShareUpdate], msgspec.Meta(min_length=1, max_length=MAX_SHARES)]


class ShareRead(msgspec.Struct, kw_only=True):
    node_id: int
    node_name_zh: str
    node_name_en: str
    kind: str  # percent | fixed
    percent_bp: int
    fixed_fen: int
    budget_fen: int
    spent_fen: int
    remaining_fen: int


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
    policy: str
    shares: list[ShareRead]
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


class NodeFunds(msgspec.Struct, kw_only=True):
    """One funding node's part of the campaign's live uses, exact to the fen."""

    node_id: int
    node_name_zh: str
    node_name_en: str
    vouchers: int
    amount_fen: int


class CampaignDetail(msgspec.Struct, kw_only=True):
    campaign: CampaignRead
    burn: list[DayBurn]
    funds: list[FundsFlow]
    by_node: list[NodeFunds]  # each funding node's part; adds up to the campaign's spent
    vouchers: int  # vouchers it currently pays for
    members: int  # members who drew from it
