"""Request and response bodies of the listings API. Money is integer fen."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Int32 = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
Id = Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]
Kind = Literal["voucher", "paid", "points", "slot", "prepaid"]
Period = Literal["day", "week", "month", "year", "total"]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
LongText = Annotated[str, msgspec.Meta(max_length=5000)]


class SlotInput(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: Moment
    ends_at: Moment
    capacity: Annotated[int, msgspec.Meta(gt=0, le=100_000)]


class OfferInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A listing as the provider writes it: the body of create, edit and revision."""

    kind: Kind
    category_id: Id
    title_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    description_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    list_price_fen: Int32
    member_price_fen: Int32
    subsidy_fen: Int32 = 0
    stock_total: Int32
    per_member_limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1
    limit_period: Period = "total"
    valid_from: Moment
    valid_to: Moment
    node_scope_id: Id
    title_en: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    description_en: LongText | None = None
    points_price: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)] | None = None
    tags: Annotated[list[Code], msgspec.Meta(max_length=10)] = []
    groups: Annotated[list[Code], msgspec.Meta(max_length=10)] = []
    location_ids: Annotated[list[Id], msgspec.Meta(max_length=50)] = []
    terms_zh: LongText = ""
    terms_en: LongText | None = None
    slots: Annotated[list[SlotInput], msgspec.Meta(max_length=500)] = []
    # A prepaid package (kind "prepaid"): N sessions, or none for a period membership
    # (unlimited visits), valid for `package_months` from the purchase.
    package_sessions: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    package_months: Annotated[int, msgspec.Meta(ge=1, le=120)] | None = None


class SlotRead(msgspec.Struct):
    id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int


class OfferRead(msgspec.Struct, kw_only=True):
    id: int
    provider_id: int
    status: str
    kind: str
    category_id: int
    title_zh: str
    title_en: str | None
    description_zh: str
    description_en: str | None
    list_price_fen: int
    member_price_fen: int
    subsidy_fen: int
    points_price: int | None
    stock_total: int
    stock_left: int
    per_member_limit: int
    limit_period: str
    valid_from: datetime
    valid_to: datetime
    node_scope_id: int
    tags: list[str]
    groups: list[str]
    location_ids: list[int]
    terms_zh: str
    terms_en: str | None
    cover_image: str | None
    cover_thumbnail: str | None
    published_at: datetime | None
    updated_at: datetime
    review_note: str | None
    slots: list[SlotRead]
    pending_revision_id: int | None = None
    package_sessions: int | None = None
    package_months: int | None = None


class OfferSummary(msgspec.Struct, kw_only=True):
    id: int
    status: str
    kind: str
    title_zh: str
    title_en: str | None
    member_price_fen: int
    stock_left: int
    valid_to: datetime
    pending_revision_id: int | None


class RejectInput(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class Change(msgspec.Struct):
    field: str
    live: object
    proposed: object


class ReviewItem(msgspec.Struct, kw_only=True):
    """A queue entry: a submitted offer, or a pending revision of a published one."""

    offer_id: int
    revision_id: int | None
    provider_id: int
    provider_name: str
    title_zh: str
    title_en: str | None
    kind: str
    submitted_at: datetime


class ReviewDetail(msgspec.Struct, kw_only=True):
    offer: OfferRead
    revision_id: int | None
    changes: list[Change]
