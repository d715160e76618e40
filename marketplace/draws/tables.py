from piccolo.columns import JSONB, BigInt, BigSerial, ForeignKey, Integer, SmallInt, Timestamptz, Varchar
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from marketplace.core.federation.tables import Member, UnionNode


class Draw(Table, tablename="draw"):
    """An offer given by draw: the entry window, the places, the weights and the committed seed."""

    id = BigSerial(primary_key=True)
    offer = ForeignKey(LazyTableReference("Offer", module_path="catalog.tables"), null=False)
    node = ForeignKey(UnionNode, null=False)
    opens_at = Timestamptz()
    closes_at = Timestamptz()
    places = Integer()
    weights = JSONB(default={})
    claim_hours = Integer()
    seed = Varchar(length=64)  # secret until the draw is run
    seed_hash = Varchar(length=64)
    status = Varchar(length=16, default="open")
    drawn_at = Timestamptz(null=True, default=None)
    notice_until = Timestamptz(null=True, default=None)
    created_by = BigInt()
    created_at = Timestamptz()


class DrawEntry(Table, tablename="draw_entry"):
    """One member's entry (one per draw), its rank once drawn and what became of its place."""

    id = BigSerial(primary_key=True)
    draw = ForeignKey(Draw, null=False)
    member = ForeignKey(Member, null=False)
    weight = SmallInt()
    entered_at = Timestamptz()
    rank = Integer(null=True, default=None)
    status = Varchar(length=16, default="entered")
    offered_until = Timestamptz(null=True, default=None)
    voucher = ForeignKey(
        LazyTableReference("Voucher", module_path="marketplace.vouchers.tables"), null=True, default=None
    )
