from piccolo.columns import BigInt, BigSerial, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from marketplace.core.federation.tables import Member, UnionNode
from marketplace.payments.tables import Payment
from marketplace.vouchers.tables import Voucher

_PROVIDER = LazyTableReference("Provider", module_path="providers.tables")
_OPERATOR = LazyTableReference("Operator", module_path="marketplace.core.identity.tables")


class PrepaidPackage(Table, tablename="prepaid_package"):
    """A prepaid package a member bought (its voucher is what the counter scans), with the
    balance left in escrow cached in both shares, written with every ledger entry."""

    id = BigSerial(primary_key=True)
    voucher = ForeignKey(Voucher, null=False, unique=True)
    payment = ForeignKey(Payment, null=False, unique=True)
    member = ForeignKey(Member, null=False)
    provider = ForeignKey(_PROVIDER, null=False)
    offer = ForeignKey(LazyTableReference("Offer", module_path="catalog.tables"), null=False)
    funding_node = ForeignKey(UnionNode, null=False)
    campaign = BigInt(null=True, default=None)
    sessions_total = Integer(null=True, default=None)  # null: a period membership
    months = Integer()
    sessions_used = Integer(default=0)
    months_released = Integer(default=0)
    member_fen = Integer()
    subsidy_fen = Integer()
    left_member_fen = Integer()
    left_subsidy_fen = Integer()
    status = Varchar(length=12, default="active")  # active, used_up, refunded
    terms_zh = Text()
    terms_en = Text(null=True, default=None)
    # The cooling-off days of the policy in force when it was bought (evaluation's prepaid_rules).
    cooling_off_days = Integer(default=7)
    # Its release schedule ("per_session", or "monthly" pro rata; a membership always monthly)
    # and whether a refund gives the unused subsidy back to the union, as the policy said then.
    release = Varchar(length=12, default="per_session")
    refund_subsidy_to_node = Boolean(default=True)
    # Unused sessions (months, when released monthly) taken off its end by a refund made in Stripe.
    cancelled = Integer(default=0)
    starts_at = Timestamptz()
    expires_at = Timestamptz()
    created_at = Timestamptz()


class PrepaidEntry(Table, tablename="prepaid_entry"):
    """One line of the append-only escrow ledger (hold, release, refund), in fen per share."""

    id = BigSerial(primary_key=True)
    package = ForeignKey(PrepaidPackage, null=False)
    provider = ForeignKey(_PROVIDER, null=False)
    kind = Varchar(length=8)
    reference = Varchar(length=32, db_column_name="ref")  # "hold", "session:3", "month:2", "refund"
    member_fen = Integer()
    subsidy_fen = Integer()
    reason = Varchar(length=16, null=True, default=None)
    staff = ForeignKey(LazyTableReference("ProviderUser", module_path="providers.tables"), null=True, default=None)
    created_at = Timestamptz()


class PrepaidRefund(Table, tablename="prepaid_refund"):
    """A refund's way back: the member's share through Stripe, the subsidy to its funder."""

    id = BigSerial(primary_key=True)
    package = ForeignKey(PrepaidPackage, null=False, unique=True)
    entry = ForeignKey(PrepaidEntry, null=False, unique=True)
    reason = Varchar(length=16)
    member_fen = Integer()
    subsidy_fen = Integer()
    funding_node = ForeignKey(UnionNode, null=False)
    campaign = BigInt(null=True, default=None)
    # The part of the unused subsidy that went to the member with their share (the policy's
    # refund_subsidy_to_node false), never more than they paid; the rest went to the funder.
    subsidy_to_member_fen = Integer(default=0)
    stripe_refund_id = Varchar(length=255, null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class PrepaidOutsideRefund(Table, tablename="prepaid_outside_refund"):
    """A refund made by hand in Stripe on a package's payment (one per Stripe refund): what the
    escrow covered (its entry) and what it could not, which operators see on the console."""

    id = BigSerial(primary_key=True)
    package = ForeignKey(PrepaidPackage, null=False)
    stripe_refund_id = Varchar(length=255, unique=True)
    amount_fen = Integer()
    covered_member_fen = Integer(default=0)
    covered_subsidy_fen = Integer(default=0)
    uncovered_fen = Integer(default=0)
    entry = ForeignKey(PrepaidEntry, null=True, default=None)
    created_at = Timestamptz()
    # An operator recovered the uncovered part from the provider or booked it as the union's
    # loss, outside the platform, and said so here (services.resolve_uncovered, audited).
    resolved_at = Timestamptz(null=True, default=None)
    resolved_by = ForeignKey(_OPERATOR, null=True, default=None)
    resolution_note = Text(null=True, default=None)
