from piccolo.columns import Array, BigInt, BigSerial, ForeignKey, Integer, SmallInt, Timestamptz, Varchar
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from marketplace.core.federation.tables import Member, UnionNode
from marketplace.core.identity.tables import Operator


class Campaign(Table, tablename="campaign"):
    """A node's subsidy campaign: who it serves, what it subsidises, its budget and cap."""

    id = BigSerial(primary_key=True)
    node = ForeignKey(UnionNode, null=False)
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    groups = Array(Varchar(length=32))
    offer_ids = Array(BigInt())
    category_ids = Array(Integer())
    budget_fen = BigInt()
    spent_fen = BigInt(default=0)
    per_member_cap_fen = Integer()
    status = Varchar(length=16, default="active")
    policy = Varchar(length=8, default="stop")  # stop | cover (marketplace/campaigns/funding.py)
    created_by = ForeignKey(Operator, null=True, default=None)
    created_at = Timestamptz()


class CampaignMember(Table, tablename="campaign_member"):
    id = BigSerial(primary_key=True)
    campaign = ForeignKey(Campaign, null=False)
    member = ForeignKey(Member, null=False)
    spent_fen = Integer()


class CampaignSpend(Table, tablename="campaign_spend"):
    id = BigSerial(primary_key=True)
    campaign = ForeignKey(Campaign, null=False)
    voucher = ForeignKey(LazyTableReference("Voucher", module_path="marketplace.vouchers.tables"), null=False)
    member = ForeignKey(Member, null=False)
    node = ForeignKey(UnionNode, null=False)
    amount_fen = Integer()
    spent_at = Timestamptz()
    refunded_at = Timestamptz(null=True, default=None)


class CampaignShare(Table, tablename="campaign_share"):
    """A funding node of a campaign: its part of every use and its own budget."""

    id = BigSerial(primary_key=True)
    campaign = ForeignKey(Campaign, null=False)
    node = ForeignKey(UnionNode, null=False)
    position = SmallInt()
    kind = Varchar(length=8)  # percent | fixed
    percent_bp = Integer(default=0)
    fixed_fen = Integer(default=0)
    budget_fen = BigInt()
    spent_fen = BigInt(default=0)


class CampaignShareSpend(Table, tablename="campaign_share_spend"):
    """One node's part of one use (a voucher)."""

    id = BigSerial(primary_key=True)
    share = ForeignKey(CampaignShare, null=False)
    campaign = ForeignKey(Campaign, null=False)
    voucher = ForeignKey(LazyTableReference("Voucher", module_path="marketplace.vouchers.tables"), null=False)
    node = ForeignKey(UnionNode, null=False)
    amount_fen = Integer()
    spent_at = Timestamptz()
    refunded_at = Timestamptz(null=True, default=None)
