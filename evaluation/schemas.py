from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec


class EvaluatorRead(msgspec.Struct):
    id: int
    name: str
    node_id: int


# Evaluator result batches (evaluation/evaluators/batches.py) -------------------------------------------------


class BatchInput(msgspec.Struct, forbid_unknown_fields=True):
    """A batch of results. `batch_id` is the evaluator's own id for it (1–64 characters, no
    spaces or slashes); each result is checked one by one, so its fields are reported per
    row rather than rejected by the decoder: {provider_id, visit_date (YYYY-MM-DD), method
    (mystery_shopper | phone_survey | online_survey | site_inspection), score (0–100),
    honoured (0–100, optional), service (0–100, optional), sample_size (≥ 1), note (≤ 500
    characters, optional)}."""

    batch_id: str
    results: list[Any]


class ResultRead(msgspec.Struct):
    row: int
    provider_id: int
    visit_date: date
    method: str
    score: int
    honoured: int | None
    service: int | None
    sample_size: int
    note: str


class BatchRead(msgspec.Struct):
    id: int
    batch_id: str
    source: str
    rows: int
    provider_ids: list[int]
    received_at: datetime
    applied_at: datetime | None
    results: list[ResultRead] | None = None


class BatchPage(msgspec.Struct):
    items: list[BatchRead]
    total: int
    page: int
    page_size: int


class RowError(msgspec.Struct):
    """One problem of a submitted batch: `row` is the result's position (1 = the first
    result; in a CSV file, the line, counting the header as line 1; 0 = the batch as a
    whole), `field` the column."""

    row: int
    field: str
    code: str
    message: str


# Follow-up samples (evaluation/evaluators/samples.py) --------------------------------------------------------


class SampleRead(msgspec.Struct):
    id: int
    provider_id: int
    provider_name: str
    redemption_id: int
    redeemed_at: datetime
    drawn_at: datetime


# Ratings and complaints (evaluation/ratings/services.py, evaluation/complaints/services.py) ------------------------

Score = Annotated[int, msgspec.Meta(ge=1, le=5)]


class RatingInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    overall: Score
    service: Score | None = None
    honoured: Score | None = None  # the discount honoured as promised
    environment: Score | None = None
    attitude: Score | None = None  # staff attitude
    comment: Annotated[str, msgspec.Meta(max_length=500)] = ""


class RatingRead(msgspec.Struct, kw_only=True):
    id: int
    voucher_id: int
    provider_id: int
    overall: int
    service: int | None
    honoured: int | None
    environment: int | None
    attitude: int | None
    comment: str
    created_at: datetime
    updated_at: datetime
    editable_until: datetime
    editable: bool
    held: bool  # held out of the score until an operator clears it


ComplaintCategory = Literal["not_honoured", "overcharge", "poor_service", "safety_hygiene", "discrimination", "other"]


class ComplaintInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    category: ComplaintCategory
    text: Annotated[str, msgspec.Meta(min_length=5, max_length=2000)]


class ComplaintAnswer(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    text: Annotated[str, msgspec.Meta(min_length=2, max_length=2000)]


class ForwardedTo(msgspec.Struct, kw_only=True):
    """Who handles a complaint since an operator forwarded it: a union, and the operator when named."""

    node_id: int
    node_name_zh: str
    node_name_en: str
    operator_id: int | None = None
    operator_name: str | None = None


class ComplaintEvent(msgspec.Struct, kw_only=True):
    """One step of a complaint's history: filed, answered, forwarded (转交) or closed, oldest first."""

    kind: str  # filed, answered, forwarded, closed
    at: datetime
    by: str | None  # who acted: the member (masked), the provider, or the operator by name
    text: str | None  # the complaint, the answer, the reason for forwarding, the resolution
    to_node_zh: str | None = None  # forwarded: the union it went to
    to_node_en: str | None = None
    to_operator: str | None = None  # forwarded to a named operator


class ComplaintRead(msgspec.Struct, kw_only=True):
    id: int
    voucher_id: int
    provider_id: int
    provider_name: str
    category: str
    text: str
    status: str  # open, answered, closed
    created_at: datetime
    respond_by: datetime
    overdue: bool
    answer: str | None
    answered_at: datetime | None
    resolution: str | None
    closed_at: datetime | None
    member_name: str | None = None  # masked, for providers and operators
    photo: str | None = None  # the member's photo under /media, kept by catalog.services.store_picture
    forwarded_to: ForwardedTo | None = None  # for operators: who handles it since it was forwarded

    @property
    def photo_thumbnail(self) -> str | None:
        """The photo's 400px copy, for lists and the voucher page."""
        from catalog.services import thumbnail_of

        return thumbnail_of(self.photo)


# Enforcement (evaluation/enforcement/policy.py) ------------------------------------------------------------------


class StandingRead(msgspec.Struct, kw_only=True):
    provider_id: int
    state: str  # good, watch, warning, probation, delisted
    since: datetime
    deadline: datetime | None
    policy_version: int | None
    reasons: list[dict]


class StandingEventRead(msgspec.Struct, kw_only=True):
    at: datetime
    from_state: str | None
    to_state: str | None
    message: str
    actor_kind: str


class CaseRead(msgspec.Struct, kw_only=True):
    id: int
    provider_id: int
    provider_name: str
    kind: str  # delisting, integrity
    status: str  # open, decided, appealed, closed
    policy_version: int | None
    figures: dict
    reasons: list[dict]
    opened_at: datetime
    decision: str | None
    decided_at: datetime | None
    explanation: str | None
    cancel_vouchers: bool
    appeal_statement: str | None
    appealed_at: datetime | None
    appeal_outcome: str | None
    appeal_explanation: str | None


class DecisionInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    decision: Literal["delist", "keep"]
    explanation: Annotated[str, msgspec.Meta(min_length=10, max_length=4000)]
    cancel_vouchers: bool = False  # delisting: also cancel and refund issued vouchers


class AppealInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    statement: Annotated[str, msgspec.Meta(min_length=10, max_length=4000)]


class AppealDecisionInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    outcome: Literal["upheld", "rejected"]
    explanation: Annotated[str, msgspec.Meta(min_length=10, max_length=4000)]


class HeldRating(msgspec.Struct, kw_only=True):
    """A rating held out of the score as part of a burst, waiting for an operator's verdict."""

    id: int
    provider: int
    provider_name: str
    overall: int
    comment: str | None
    hold_reason: str  # burst_one_network, burst_new_accounts
    created_at: datetime


class HeldRatingPage(msgspec.Struct, kw_only=True):
    items: list[HeldRating]
    total: int
    page: int
    page_size: int
