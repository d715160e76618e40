from piccolo.columns import Array, BigInt, BigSerial, ForeignKey, Integer, Timestamptz, Varchar
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
