"""Request and response bodies of the providers domain."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

KINDS = ("merchant", "gym", "clinic", "trainer", "restaurant", "cinema", "other")
STATUSES = ("applied", "changes_requested", "active", "rejected", "suspended", "delisted")

Kind = Literal["merchant", "gym", "clinic", "trainer", "restaurant", "cinema", "other"]
Status = Literal["applied", "changes_requested", "active", "rejected", "suspended", "delisted"]
Action = Literal["approve", "reject", "request_changes", "suspend", "reinstate"]

Text100 = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Text50 = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Reason = Annotated[str, msgspec.Meta(max_length=500)]
Id = Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]
# {"mon": ["09:00", "21:00"], ...}; a day that is absent is closed.
OpeningHours = Annotated[dict[str, Annotated[list[Annotated[str, msgspec.Meta(max_length=5)]],
                                                msgspec.Meta(min_length=2, max_length=2)]],
                         msgspec.Meta(max_length=7)]


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


class ProviderSummary(msgspec.Struct):
    id: int
    name: str
    credit_code: str
    kind: str
    status: str
    node_id: int
    node_name: str
    created_at: datetime


class ProviderPage(msgspec.Struct):
    items: list[ProviderSummary]
    total: int
    page: int
    page_size: int
