from piccolo.columns import (
    JSONB,
    BigInt,
    BigSerial,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

# The federation tree belongs to marketplace; a lazy reference keeps this package
# from importing it.
UNION_NODE = LazyTableReference("UnionNode", module_path="marketplace.core.federation.tables")


class EvaluatorOrg(Table, tablename="evaluator_org"):
    """An independent survey agency, scoped to one federation node."""

    id = Serial(primary_key=True)
    name = Varchar(length=100)
    node = ForeignKey(UNION_NODE, null=False)
    active = Boolean(default=True)
    created_at = Timestamptz()


class EvaluatorApiKey(Table, tablename="evaluator_api_key"):
    """An API key `ek_<prefix>_<secret>`: the prefix finds the row, only the SHA-256
    of the whole key is kept."""

    id = Serial(primary_key=True)
    org = ForeignKey(EvaluatorOrg, null=False)
    prefix = Varchar(length=16, unique=True)
    key_hash = Varchar(length=64)
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)


class Redemption(Table, tablename="redemption"):
    """A redemption at the counter, as the marketplace announced it (voucher.redeemed)."""

    id = BigSerial(primary_key=True)
    voucher = BigInt()
    provider = ForeignKey(LazyTableReference("Provider", module_path="providers.tables"), null=False)
    offer = ForeignKey(LazyTableReference("Offer", module_path="catalog.tables"), null=False)
    category = ForeignKey(LazyTableReference("Category", module_path="catalog.tables"), null=False)
    member = ForeignKey(LazyTableReference("Member", module_path="marketplace.core.federation.tables"), null=False)
    staff = ForeignKey(LazyTableReference("ProviderUser", module_path="providers.tables"), null=True, default=None)
    location = ForeignKey(LazyTableReference("Location", module_path="providers.tables"), null=True, default=None)
    redeemed_at = Timestamptz()
    honoured = Boolean(null=True, default=None)
    survey_due_at = Timestamptz()
    survey_sent_at = Timestamptz(null=True, default=None)


class Rating(Table, tablename="rating"):
    id = BigSerial(primary_key=True)
    redemption = ForeignKey(Redemption, null=False)
    provider = ForeignKey(LazyTableReference("Provider", module_path="providers.tables"), null=False)
    member = ForeignKey(LazyTableReference("Member", module_path="marketplace.core.federation.tables"), null=False)
    overall = SmallInt()
    service = SmallInt(null=True, default=None)
    honoured = SmallInt(null=True, default=None)
    environment = SmallInt(null=True, default=None)
    attitude = SmallInt(null=True, default=None)
    comment = Varchar(length=500, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()
    held = Boolean(default=False)
    hold_reason = Varchar(length=100, null=True, default=None)
    cleared_at = Timestamptz(null=True, default=None)
    network = Varchar(length=50, default="")  # the rater's /24 (IPv4) or /48 (IPv6), for burst checks
    new_account = Boolean(default=False)  # rated within NEW_ACCOUNT_DAYS of joining
    member_masked = Varchar(length=50, default="")  # 王*芳, as the public review shows the member
    # The provider's one public reply, shown under the review (evaluation/ratings/reviews.py).
    reply = Varchar(length=500, null=True, default=None)
    replied_at = Timestamptz(null=True, default=None)
    replied_by = Integer(null=True, default=None)  # the provider user (owner) who replied


class Complaint(Table, tablename="complaint"):
    id = BigSerial(primary_key=True)
    redemption = ForeignKey(Redemption, null=True, default=None)
    voucher = BigInt()
    provider = ForeignKey(LazyTableReference("Provider", module_path="providers.tables"), null=False)
    member = ForeignKey(LazyTableReference("Member", module_path="marketplace.core.federation.tables"), null=False)
    category = Varchar(length=20)
    text = Varchar(length=2000)
    status = Varchar(length=12, default="open")
    created_at = Timestamptz()
    respond_by = Timestamptz()
    answer = Varchar(length=2000, null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    resolution = Varchar(length=2000, null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    closed_by = ForeignKey(
        LazyTableReference("Operator", module_path="marketplace.core.identity.tables"), null=True, default=None
    )
    member_masked = Varchar(length=50, default="")  # 王*芳, as providers and operators see the member
    photo = Varchar(length=100, null=True, default=None)  # under /media, as catalog.services.store_picture keeps it
    # Who handles it now, after an operator forwarded it (evaluation.complaints.forward).
    assigned_node = ForeignKey(UNION_NODE, null=True, default=None)
    assigned_operator = ForeignKey(
        LazyTableReference("Operator", module_path="marketplace.core.identity.tables"), null=True, default=None
    )


class EvaluatorBatch(Table, tablename="evaluator_batch"):
    """One submission of results by an evaluator, named by its own `batch_ref`;
    applied whole, once."""

    id = Serial(primary_key=True)
    org = ForeignKey(EvaluatorOrg, null=False)
    batch_ref = Varchar(length=64)
    source = Varchar(length=4)
    rows = Integer()
    content_hash = Varchar(length=64)
    received_at = Timestamptz()
    applied_at = Timestamptz(null=True, default=None)


class EvaluatorResult(Table, tablename="evaluator_result"):
    """A mystery-shopper visit or survey result for one provider; scores 0–100."""

    id = BigSerial(primary_key=True)
    batch = ForeignKey(EvaluatorBatch, null=False)
    org = ForeignKey(EvaluatorOrg, null=False)
    provider = ForeignKey(LazyTableReference("Provider", module_path="providers.tables"), null=False)
    visit_date = Date()
    method = Varchar(length=20)
    score = SmallInt()
    honoured = SmallInt(null=True, default=None)
    service = SmallInt(null=True, default=None)
    sample_size = Integer()
    note = Varchar(length=500, default="")


class FollowUpSample(Table, tablename="follow_up_sample"):
    """A redemption drawn for an evaluator organisation to follow up."""

    id = BigSerial(primary_key=True)
    org = ForeignKey(EvaluatorOrg, null=False)
    provider = ForeignKey(LazyTableReference("Provider", module_path="providers.tables"), null=False)
    redemption = ForeignKey(Redemption, null=False)
    drawn_at = Timestamptz()


class _ScorecardFigures:
    """The figures of a scorecard, shared by the current card and the monthly snapshots
    (see migrations/evaluation/evaluation_0004_scorecards.py for what each one means)."""

    computed_at = Timestamptz()
    window_days = Integer()
    category = ForeignKey(LazyTableReference("Category", module_path="catalog.tables"), null=True, default=None)
    district = Varchar(length=32, null=True, default=None)
    redemptions_n = Integer(default=0)
    ratings_n = Integer(default=0)
    ratings_sum = Integer(default=0)
    prior_mean = DoublePrecision(null=True, default=None)
    prior_weight = DoublePrecision()
    satisfaction = DoublePrecision(null=True, default=None)
    satisfaction_raw = DoublePrecision(null=True, default=None)
    honoured_n = Integer(default=0)
    honoured_yes = Integer(default=0)
    honoured_low = DoublePrecision(null=True, default=None)
    complaints_n = Integer(default=0)
    complaints_per_100 = DoublePrecision(null=True, default=None)
    missed_responses_n = Integer(default=0)
    responses_n = Integer(default=0)
    median_response_hours = DoublePrecision(null=True, default=None)
    third_party_n = Integer(default=0)
    third_party_score = DoublePrecision(null=True, default=None)
    trend = DoublePrecision(null=True, default=None)
    trend_recent_n = Integer(default=0)
    trend_previous_n = Integer(default=0)
    rank_category = Integer(null=True, default=None)
    category_ranked_n = Integer(null=True, default=None)
    rank_district = Integer(null=True, default=None)
    district_ranked_n = Integer(null=True, default=None)


class ProviderScorecard(_ScorecardFigures, Table, tablename="provider_scorecard"):
    """A provider's current figures over the rolling window (evaluation/scorecards/services.py)."""

    id = BigSerial(primary_key=True)
    provider = ForeignKey(LazyTableReference("Provider", module_path="providers.tables"), null=False, unique=True)


class ScorecardSnapshot(_ScorecardFigures, Table, tablename="scorecard_snapshot"):
    """A provider's figures of one calendar month (Asia/Shanghai), for trend charts."""

    id = BigSerial(primary_key=True)
    provider = ForeignKey(LazyTableReference("Provider", module_path="providers.tables"), null=False)
    month = Date()


OPERATOR = LazyTableReference("Operator", module_path="marketplace.core.identity.tables")
PROVIDER = LazyTableReference("Provider", module_path="providers.tables")


class EnforcementPolicy(Table, tablename="enforcement_policy"):
    id = Serial(primary_key=True)
    node = ForeignKey(UNION_NODE, null=False)
    version = Integer()
    rules = JSONB()
    created_at = Timestamptz()
    created_by = ForeignKey(OPERATOR, null=True, default=None)


class ProviderStanding(Table, tablename="provider_standing"):
    id = Serial(primary_key=True)
    provider = ForeignKey(PROVIDER, null=False)
    state = Varchar(length=12, default="good")
    since = Timestamptz()
    deadline = Timestamptz(null=True, default=None)
    policy = ForeignKey(EnforcementPolicy, null=True, default=None)
    reasons = JSONB(default=[])


class EnforcementCase(Table, tablename="enforcement_case"):
    id = Serial(primary_key=True)
    provider = ForeignKey(PROVIDER, null=False)
    kind = Varchar(length=20)
    status = Varchar(length=12, default="open")
    policy = ForeignKey(EnforcementPolicy, null=True, default=None)
    figures = JSONB()
    reasons = JSONB()
    opened_at = Timestamptz()
    decision = Varchar(length=12, null=True, default=None)
    decided_by = ForeignKey(OPERATOR, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    explanation = Text(null=True, default=None)
    cancel_vouchers = Boolean(default=False)
    appeal_statement = Text(null=True, default=None)
    appealed_at = Timestamptz(null=True, default=None)
    appeal_outcome = Varchar(length=10, null=True, default=None)
    appeal_decided_by = ForeignKey(OPERATOR, null=True, default=None)
    appeal_decided_at = Timestamptz(null=True, default=None)
    appeal_explanation = Text(null=True, default=None)


class StandingEvent(Table, tablename="standing_event"):
    id = BigSerial(primary_key=True)
    provider = ForeignKey(PROVIDER, null=False)
    case_id = ForeignKey(EnforcementCase, null=True, default=None)
    from_state = Varchar(length=12, null=True, default=None)
    to_state = Varchar(length=12, null=True, default=None)
    message = Text()
    actor_kind = Varchar(length=12)
    actor_id = Integer(null=True, default=None)
    created_at = Timestamptz()


class PrepaidFreeze(Table, tablename="prepaid_freeze"):
    """One reason a provider's prepaid package sales are stopped (evaluation/enforcement/freeze.py);
    open while lifted_at is null, at most one open per provider and reason."""

    id = Serial(primary_key=True)
    provider = ForeignKey(PROVIDER, null=False)
    reason = Varchar(length=24)
    detail = JSONB(default={})
    note = Text(null=True, default=None)
    since = Timestamptz()
    started_by = ForeignKey(OPERATOR, null=True, default=None)
    lifted_at = Timestamptz(null=True, default=None)
    lifted_by = ForeignKey(OPERATOR, null=True, default=None)
    lift_note = Text(null=True, default=None)
