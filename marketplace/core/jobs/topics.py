"""Every outbox topic, declared once, with the shape of its payload.

A topic is a msgspec Struct whose class names the topic: publishers build one
(`outbox.publish(MemberJoined(member_id=7))`) and subscribers read one
(`MemberJoined.read(payload)`), so a misspelt topic or a missing field fails where it
is written instead of in a worker hours later. Every domain may import this module
(it imports nothing of theirs), so a consumer names a producer's topic without
depending on the producer's package.

Payloads are stored as JSON: keep fields to ints, strings, booleans, lists of them and
datetimes (read back from their ISO text). A field added later needs a default, so that
events already in the table still read.
"""

from datetime import datetime
from typing import Any, ClassVar, Self

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """The payload of one topic; subclasses set `topic`."""

    topic: ClassVar[str]

    @classmethod
    def read(cls, payload: dict[str, Any]) -> Self:
        """The event as a subscriber receives it (a dict decoded from the message's JSON)."""
        return msgspec.convert(payload, cls)


# Federation


class MemberJoined(Event, frozen=True):
    topic = "member.joined"
    member_id: int


class RosterImportQueued(Event, frozen=True):
    topic = "roster.import_queued"
    import_id: int


# Providers and the catalogue


class ProviderChanged(Event, frozen=True):
    topic = "provider.changed"
    provider_id: int


class OfferChanged(Event, frozen=True):
    topic = "offer.changed"
    offer_id: int


# Vouchers, points and payments


class VoucherRedeemed(Event, frozen=True):
    topic = "voucher.redeemed"
    voucher_id: int
    provider_id: int
    offer_id: int
    category_id: int
    member_id: int
    redeemed_at: datetime
    staff_id: int | None = None
    location_id: int | None = None


class VoucherHonoured(Event, frozen=True):
    topic = "voucher.honoured"
    voucher_id: int
    honoured: bool


class PaidVoucherCancelled(Event, frozen=True):
    topic = "voucher.paid_cancelled"
    voucher_id: int


class GrantCreated(Event, frozen=True):
    topic = "points.grant_created"
    grant_id: int


class StripeEventStored(Event, frozen=True):
    topic = "stripe.event"
    stripe_event_id: int


class PrepaidRefundedInStripe(Event, frozen=True):
    """Stripe reports more refunded on a prepaid package's payment than the platform asked
    for (a refund made by hand in the dashboard): marketplace/prepaid's escrow follows it."""

    topic = "payment.prepaid_refunded_in_stripe"
    payment_id: int


class RefundRequested(Event, frozen=True):
    topic = "payment.refund_requested"
    payment_id: int


# Evaluation


class RatingChanged(Event, frozen=True):
    topic = "evaluation.rating_changed"
    provider_id: int


class ScorecardChanged(Event, frozen=True):
    """The satisfaction members see (one decimal) changed; search keeps its own copy."""

    topic = "evaluation.scorecard_changed"
    provider_id: int
    satisfaction: float | None = None


class ResultsApplied(Event, frozen=True):
    topic = "evaluation.results_applied"
    batch_id: int
    provider_ids: list[int]
    batch_ref: str | None = None
    org_id: int | None = None


class SurveyDue(Event, frozen=True):
    topic = "evaluation.survey_due"
    member_id: int
    voucher_id: int
    provider_id: int


class ComplaintNews(Event, frozen=True):
    """What the member's message about a complaint needs (no text of it: the page shows that)."""

    complaint_id: int
    member_id: int
    voucher_id: int
    provider_name: str


class ComplaintAnswered(ComplaintNews, frozen=True):
    topic = "evaluation.complaint_answered"


class ComplaintClosed(ComplaintNews, frozen=True):
    topic = "evaluation.complaint_closed"


class ProviderDelisted(Event, frozen=True):
    topic = "evaluation.provider_delisted"
    provider_id: int
    case_id: int
    cancel_vouchers: bool = False


class ProviderClosed(Event, frozen=True):
    """The provider closed for good (an operator's 关闭/停业 decision, providers.services)."""

    topic = "provider.closed"
    provider_id: int


# Prepaid Guard (evaluation/enforcement/freeze.py): a provider's prepaid package sales stop
# (its first open freeze; `reason` the freeze's code) and resume (its last one lifted).


class PrepaidSalesFrozen(Event, frozen=True):
    topic = "prepaid.sales_frozen"
    provider_id: int
    reason: str


class PrepaidSalesResumed(Event, frozen=True):
    topic = "prepaid.sales_resumed"
    provider_id: int
    reason: str


ALL: tuple[type[Event], ...] = (
    MemberJoined,
    RosterImportQueued,
    ProviderChanged,
    OfferChanged,
    VoucherRedeemed,
    VoucherHonoured,
    PaidVoucherCancelled,
    GrantCreated,
    StripeEventStored,
    RefundRequested,
    PrepaidRefundedInStripe,
    RatingChanged,
    ResultsApplied,
    ScorecardChanged,
    SurveyDue,
    ComplaintAnswered,
    ComplaintClosed,
    ProviderDelisted,
    ProviderClosed,
    PrepaidSalesFrozen,
    PrepaidSalesResumed,
)
BY_NAME: dict[str, type[Event]] = {event.topic: event for event in ALL}
