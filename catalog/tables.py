from piccolo.columns import (
    JSONB,
    Array,
    BigSerial,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

# The federation tree belongs to marketplace; a lazy reference keeps this package
# from importing it.
UNION_NODE = LazyTableReference("UnionNode", module_path="marketplace.core.federation.tables")


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
    tags = Array(Varchar(length=32))
    terms_zh = Text(default="")
    terms_en = Text(null=True, default=None)
    cover_image = Varchar(length=200, null=True, default=None)
    # What the picture and its thumbnail take in the media store, kept at upload (the picture
    # quota, catalog/services.py); null for one kept before, measured at the next check.
    cover_image_bytes = Integer(null=True, default=None)
    limit_period = Varchar(length=8, default="total")
    published_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()
    review_note = Text(null=True, default=None)  # why an operator sent it back to draft
    by_draw = Boolean(default=False)  # its places go by draw (marketplace/draws), not first come
    # A prepaid package (kind "prepaid", marketplace/prepaid): N sessions (null: a period
    # membership, unlimited visits) and its validity in months from the purchase.
    package_sessions = Integer(null=True, default=None)
    package_months = Integer(null=True, default=None)


class OfferLocation(Table, tablename="offer_location"):
    """Where an offer can be used: some of its provider's locations."""

    id = BigSerial(primary_key=True)
    offer = ForeignKey(Offer, null=False)
    location = ForeignKey(LazyTableReference("Location", module_path="providers.tables"), null=False)


class OfferSlot(Table, tablename="offer_slot"):
    """A bookable time of a `slot` offer; each booking takes one place of its capacity."""

    id = BigSerial(primary_key=True)
    offer = ForeignKey(Offer, null=False)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    capacity = Integer()
    booked = Integer(default=0)


class OfferRevision(Table, tablename="offer_revision"):
    """An edit of a published offer, reviewed while the published version stays live."""

    id = BigSerial(primary_key=True)
    offer = ForeignKey(Offer, null=False)
    data = JSONB()
    status = Varchar(length=16, default="submitted")
    note = Text(null=True, default=None)
    submitted_at = Timestamptz()
    reviewed_at = Timestamptz(null=True, default=None)
    reviewer = ForeignKey(
        LazyTableReference("Operator", module_path="marketplace.core.identity.tables"), null=True, default=None
    )


class SearchMiss(Table, tablename="search_miss"):
    """A search that found nothing, for the operators' demand report (no personal data)."""

    id = BigSerial(primary_key=True)
    query = Varchar(length=100)
    district = Varchar(length=100, null=True, default=None)
    groups = Array(Varchar(length=32))
    degraded = Boolean(default=False)
    created_at = Timestamptz()


class SearchTermDaily(Table, tablename="search_term_daily"):
    """Searches that found offers, counted per day and area, for the popular searches (no personal data)."""

    id = BigSerial(primary_key=True)
    day = Date()
    area = Integer()
    term = Varchar(length=40)
    searches = Integer()


class ProviderRating(Table, tablename="provider_rating"):
    """A provider's satisfaction as evaluation last announced it (`evaluation.scorecard_changed`),
    kept here so that search documents carry it; null while the provider has no rating."""

    provider = Integer(primary_key=True)
    rating = DoublePrecision(null=True, default=None)
    updated_at = Timestamptz()
