from piccolo.columns import BigSerial, ForeignKey, Timestamptz
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from marketplace.core.federation.tables import Member


class Favourite(Table, tablename="favourite"):
    """An offer or a provider a member keeps (收藏): exactly one of the two is set."""

    id = BigSerial(primary_key=True)
    member = ForeignKey(Member, null=False)
    offer = ForeignKey(LazyTableReference("Offer", module_path="catalog.tables"), null=True, default=None)
    provider = ForeignKey(LazyTableReference("Provider", module_path="providers.tables"), null=True, default=None)
    created_at = Timestamptz()
