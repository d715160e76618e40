from piccolo.columns import JSONB, BigInt, BigSerial, ForeignKey, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from marketplace.core.federation.tables import Member, UnionNode
from marketplace.core.identity.tables import Operator


class PointsGrant(Table, tablename="points_grant"):
    """An operator's grant of points to every active member of a subtree (or one group in
    it), applied in chunks by a job that records its progress."""

    id = BigSerial(primary_key=True)
    node = ForeignKey(UnionNode, null=False)
    member_group = Varchar(length=32, null=True, default=None)
    amount = Integer()
    reason = Text()
    operator = ForeignKey(Operator, null=False)
    status = Varchar(length=16, default="queued")  # queued, running, done
    members_total = Integer(default=0)
    members_done = Integer(default=0)
    last_member = BigInt(default=0)  # the chunks go by member id: where the job has got to
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)


class PointsEntry(Table, tablename="points_entry"):
    """One line of the append-only ledger: the balance is the sum of a member's entries."""

    id = BigSerial(primary_key=True)
    member = ForeignKey(Member, null=False)
    kind = Varchar(length=8)  # grant, earn, spend, refund, expire, adjust
    amount = Integer()
    ref = Varchar(length=64)  # type: ignore[assignment]  # shadows Table.ref(), which nothing here calls
    voucher = ForeignKey(
        LazyTableReference("Voucher", module_path="marketplace.vouchers.tables"), null=True, default=None
    )
    points_grant = ForeignKey(PointsGrant, null=True, default=None)
    operator = ForeignKey(Operator, null=True, default=None)
    reason = Text(null=True, default=None)
    lots = JSONB(null=True, default=None)
    created_at = Timestamptz()


class PointsLot(Table, tablename="points_lot"):
    id = BigSerial(primary_key=True)
    member = ForeignKey(Member, null=False)
    entry = ForeignKey(PointsEntry, null=False)
    amount = Integer()
    remaining = Integer()
    expires_at = Timestamptz()
    reminded_at = Timestamptz(null=True, default=None)
    reminded_days = SmallInt(null=True, default=None)  # the last reminder it had: 90, 30 or 7 days before


class PointsBalance(Table, tablename="points_balance"):
    id = BigSerial(primary_key=True)
    member = ForeignKey(Member, null=False)
    balance = Integer()
