"""Request and response bodies of the providers domain."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

KINDS = ("merchant", "gym", "clinic", "trainer", "restaurant", "cinema", "other")
STATUSES = ("applied", "changes_requested", "active", "rejected", "suspended", "delisted", "closed")

Kind = Literal["merchant", "gym", "clinic", "trainer", "restaurant", "cinema", "other"]
Status = Literal["applied", "changes_requested", "active", "rejected", "suspended", "delisted", "closed"]
Action = Literal["approve", "reject", "request_changes", "suspend", "reinstate", "close"]

Text100 = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Text50 = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Reason = Annotated[str, msgspec.Meta(max_length=500)]
Id = Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]
# {"mon": ["09:00", "21:00"], ...}; a day that is absent is closed.
OpeningHours = Annotated[
    dict[str, Annotated[list[Annotated[str, msgspec.Meta(max_length=5)]], msgspec.Meta(min_length=2, max_length=2)]],
    msgspec.Meta(max_length=7),
]


class ProviderRead(msgspec.Struct):
    id: int
    name: str
    kind: str
    status: str
    node_id: int


class LocationInput(msgspec.Struct, forbid_unknown_fields=True):
    name: Text100
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    district: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    latitude: float
    longitude: float
    opening_hours: OpeningHours = {}
    phone: Annotated[str, msgspec.Meta(max_length=20)] = ""  # the shop's public number, optional


class AccountInput(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=3, max_length=64)]
    password: Annotated[str, msgspec.Meta(max_length=128)]
    display_name: Annotated[str, msgspec.Meta(max_length=50)] = ""


class ProviderDetailsInput(msgspec.Struct, forbid_unknown_fields=True):
    """What an owner may change while the application is being reviewed or when asked to."""

    name: Text100
    kind: Kind
    contact_name: Text50
    contact_phone: Annotated[str, msgspec.Meta(max_length=20)]


class ApplicationCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Text100
    credit_code: Annotated[str, msgspec.Meta(max_length=18)]
    kind: Kind
    contact_name: Text50
    contact_phone: Annotated[str, msgspec.Meta(max_length=20)]
    node_id: Id
    locations: Annotated[list[LocationInput], msgspec.Meta(min_length=1, max_length=20)]
    owner: AccountInput


class ApplicationCreated(msgspec.Struct):
    id: int
    status: str


class Decision(msgspec.Struct, forbid_unknown_fields=True):
    action: Action
    reason: Reason = ""


class LocationRead(msgspec.Struct):
    id: int
    name: str
    address: str
    district: str
    latitude: float
    longitude: float
    opening_hours: dict
    phone: str = ""


class StatusChangeRead(msgspec.Struct):
    from_status: str | None
    to_status: str
    actor_kind: str
    actor_id: int | None
    reason: str
    at: datetime


class UserRead(msgspec.Struct):
    id: int
    username: str
    display_name: str
    role: str
    active: bool


class ProviderDetail(msgspec.Struct):
    id: int
    name: str
    credit_code: str
    kind: str
    status: str
    node_id: int
    node_name: str
    contact_name: str
    contact_phone: str  # masked for operators
    created_at: datetime
    locations: list[LocationRead]
    history: list[StatusChangeRead]
    licence_image: str | None = None  # the business licence picture under /media, for the review
    node_name_en: str = ""  # the union's English name, for the English pages (may be empty)


class ProviderSummary(msgspec.Struct):
    id: int
    name: str
    credit_code: str
    kind: str
    status: str
    node_id: int
    node_name: str
    created_at: datetime
    node_name_en: str = ""


class ProviderPage(msgspec.Struct):
    items: list[ProviderSummary]
    total: int
    page: int
    page_size: int


# Settlements ------------------------------------------------------------------------------------

STATEMENT_STATUSES = ("draft", "approved", "paid", "closed")
StatementStatus = Literal["draft", "approved", "paid", "closed"]
# A calendar month, "2026-11".
Period = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class StatementLineInput(msgspec.Struct, frozen=True):
    """One redeemed voucher as the marketplace hands it to a draft (money in fen)."""

    voucher_id: int
    voucher_code: str
    offer_id: int
    offer_title_zh: str
    offer_title_en: str
    redeemed_at: datetime
    subsidy_fen: int
    paid_fen: int
    escrow_entry: int | None = None  # a release of a prepaid package's escrow (one per session)


class StatementLineRead(msgspec.Struct):
    voucher_id: int
    voucher_code: str
    offer_id: int
    offer_title_zh: str
    offer_title_en: str
    redeemed_at: datetime
    subsidy_fen: int
    paid_fen: int
    escrow_entry: int | None = None


class StatementSummary(msgspec.Struct):
    id: int
    provider_id: int
    provider_name: str
    period: str
    status: str
    revision: int
    voucher_count: int
    subsidy_fen: int
    paid_fen: int
    total_fen: int  # what the provider is owed: subsidy_fen + paid_fen
    currency: str
    drafted_at: datetime
    approved_at: datetime | None
    paid_at: datetime | None
    payout_reference: str | None
    adjustment_fen: int = 0


class StatementRead(msgspec.Struct):
    id: int
    provider_id: int
    provider_name: str
    provider_node_id: int
    period: str
    period_start: datetime
    period_end: datetime
    status: str
    revision: int
    voucher_count: int
    subsidy_fen: int
    paid_fen: int
    total_fen: int
    currency: str
    drafted_at: datetime
    approved_at: datetime | None
    approved_by: int | None
    paid_at: datetime | None
    paid_by: int | None
    payout_account: str | None  # the one fixed at approval (and paid to); before approval the provider's now
    payout_reference: str | None
    lines: list[StatementLineRead]
    provider_account: str | None = None  # the provider's account now (a change after approval needs re-approval)
    adjustment_fen: int = 0  # corrections carried from earlier statements (in total_fen)
    adjustments: list["AdjustmentRead"] = []  # carried onto this statement
    later_corrections: list["AdjustmentRead"] = []  # of this statement's vouchers, after it was approved


class AdjustmentRead(msgspec.Struct):
    """A correction: money that changed after the statement settling a voucher was approved
    (negative: taken back), carried to the provider's next statement."""

    id: int
    voucher_id: int | None  # None: a closed statement's negative balance carried on
    voucher_code: str | None
    offer_title_zh: str
    offer_title_en: str
    settled_statement: int
    settled_period: str
    reason: str  # refund, partial_refund, dispute_lost, balance_carried
    amount_fen: int
    occurred_at: datetime
    statement: int | None  # where it is carried; None until the next statement is drafted
    carried_to_period: str | None


class StatementPage(msgspec.Struct):
    items: list[StatementSummary]
    total: int
    page: int
    page_size: int


class DraftRequest(msgspec.Struct, forbid_unknown_fields=True):
    period: Period


class DraftResult(msgspec.Struct):
    """What drafting a month did, by provider id: created, recomputed, unchanged (a draft
    that already said the same), or kept as it was because it is approved or paid."""

    period: str
    created: list[int] = []
    recomputed: list[int] = []
    unchanged: list[int] = []
    kept: list[int] = []


class Approval(msgspec.Struct, forbid_unknown_fields=True):
    # The revision the operator looked at; a draft recomputed since then is not approved.
    revision: int | None = None


class PayoutAccountInput(msgspec.Struct, forbid_unknown_fields=True):
    account_id: Annotated[str, msgspec.Meta(max_length=64)]
