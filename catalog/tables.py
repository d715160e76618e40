from piccolo.columns import (
    Array, BigSerial, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar,
)
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

# The federation tree belongs to marketplace; a lazy reference keeps this package
# from importing it.
UNION_NODE = LazyTableReference("UnionNode", module_path="marketplace.federation.tables")


class Category(Table, tablename="category"):
    id = Serial(primary_key=True)
    code = Varchar(length=32, unique=True)
    name_zh = Varchar(length=50)
    name_en = Varchar(length=50)


class Offer(Table, tablename="offer"):
    """A listing: a discount voucher, a paid product or service, a points exchange or
    bookable slots. Money is integer fen."""

    id = BigSerial(primary_key=True)
    provider = ForeignKey(LazyTableReference("Provider", module_path="providers.tables"), null=False)
    category = ForeignKey(Category, null=False)
    kind = Varchar(length=16)
    title_zh = Varchar(length=100)
    title_en = Varchar(length=100, null=True, default=None)
    description_zh = Text()
    description_en = Text(null=True, default=None)
    list_price_fen = Integer()
    member_price_fen = Integer()
    subsidy_fen = Integer()
    points_price = Integer(null=True, default=None)
    stock_total = Integer()
    stock_left = Integer()
    per_member_limit = Integer()
    node_scope = ForeignKey(UNION_NODE, null=False)
    groups = Array(Varchar(length=32))
    status = Varchar(length=16, default="draft")
    valid_from = Timestamptz()
    valid_to = Timestamptz()
    created_at = Timestamptz()
