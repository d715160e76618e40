from piccolo.columns import (
    JSONB,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
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


class Provider(Table, tablename="provider"):
    """A business that serves members: merchant, gym, clinic, trainer, ..."""

    id = Serial(primary_key=True)
    name = Varchar(length=100)
    credit_code = Varchar(length=18, unique=True)
    kind = Varchar(length=16)
    node = ForeignKey(UNION_NODE, null=False)
    contact_name = Varchar(length=50)
    # The contact person's phone is personal data: encrypted, and masked for display.
    contact_phone_cipher = Bytea()
    contact_phone_masked = Varchar(length=20)
    status = Varchar(length=20, default="applied")
    created_at = Timestamptz()
    updated_at = Timestamptz()
    # Where settlements are paid: the provider's Stripe Connect account ("acct_...").
    payout_account = Varchar(length=64, null=True, default=None)
    # The business licence picture sent with the application (a name under /media), for review.
    licence_image = Varchar(length=120, null=True, default=None)
    # When the lease of its premises ends, if the provider gave it (Prepaid Guard's lease signal).
    lease_ends_on = Date(null=True, default=None)


class Location(Table, tablename="location"):
    id = Serial(primary_key=True)
    provider = ForeignKey(Provider, null=False)
    name = Varchar(length=100)
    address = Varchar(length=200)
    district = Varchar(length=32)
    latitude = DoublePrecision()
    longitude = DoublePrecision()
    opening_hours = JSONB(default={})
    phone = Varchar(length=20, default="")  # the shop's public number (not the contact person's)


class ProviderUser(Table, tablename="provider_user"):
    """A person who works for one provider: its owner, or front-desk staff."""

    id = Serial(primary_key=True)
    provider = ForeignKey(Provider, null=False)
    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=50)
    role = Varchar(length=8)
    password_hash = Text()
    active = Boolean(default=True)
    created_at = Timestamptz()
    must_change_password = Boolean(default=False)  # set when the owner resets it


class ProviderStatusChange(Table, tablename="provider_status_change"):
    """One transition of a provider's status: who moved it, from what, to what and why."""

    id = BigSerial(primary_key=True)
    provider = ForeignKey(Provider, null=False)
    from_status = Varchar(length=20, null=True)
    to_status = Varchar(length=20)
    actor_kind = Varchar(length=10)
    actor_id = Integer(null=True)
    reason = Varchar(length=500, default="")
    at = Timestamptz()


class SettlementStatement(Table, tablename="settlement_statement"):
    """What the union owes one provider for one calendar month (Asia/Shanghai): the
    subsidy of the vouchers redeemed in it plus the member payments collected online.
    draft → approved (by an operator) → paid (through the payout gateway), or
    draft → closed (nothing to pay; two operators) when corrections took the total to zero or below."""

    id = BigSerial(primary_key=True)
    provider = ForeignKey(Provider, null=False)
    period = Varchar(length=7)  # "2026-11"
    period_start = Timestamptz()
    period_end = Timestamptz()
    status = Varchar(length=10, default="draft")
    revision = Integer(default=1)  # +1 each time a draft is recomputed
    voucher_count = Integer(default=0)
    subsidy_fen = BigInt(default=0)
    paid_fen = BigInt(default=0)
    total_fen = BigInt(default=0)
    currency = Varchar(length=3, default="CNY")
    drafted_at = Timestamptz()
    approved_at = Timestamptz(null=True, default=None)
    approved_by = Integer(null=True, default=None)
    paid_at = Timestamptz(null=True, default=None)
    paid_by = Integer(null=True, default=None)
    payout_account = Varchar(length=64, null=True, default=None)
    payout_reference = Varchar(length=64, null=True, default=None)
    # Corrections carried from earlier statements (negative: taken back); in total_fen.
    adjustment_fen = BigInt(default=0)


class SettlementLine(Table, tablename="settlement_line"):
    """One redeemed voucher of a statement, copied when the statement was drafted."""

    id = BigSerial(primary_key=True)
    statement = ForeignKey(SettlementStatement, null=False)
    voucher_id = BigInt()  # the marketplace's voucher; no foreign key across the layers
    voucher_code = Varchar(length=14)
    offer_id = Integer()
    offer_title_zh = Varchar(length=100)
    offer_title_en = Varchar(length=100, default="")
    redeemed_at = Timestamptz()
    subsidy_fen = Integer()
    paid_fen = Integer()
    # A part of a prepaid package released from escrow (marketplace/prepaid's ledger entry):
    # a package's voucher has one line per release, each settled once.
    escrow_entry = BigInt(null=True, default=None)


class SettlementAdjustment(Table, tablename="settlement_adjustment"):
    """Money that changed after the statement that settled a voucher was approved (a refund
    made in Stripe, a dispute lost): never written into that statement, carried to the
    provider's next one instead."""

    id = BigSerial(primary_key=True)
    provider = ForeignKey(Provider, null=False)
    # None only for a closed statement's negative balance carried on (reason balance_carried).
    voucher_id = BigInt(null=True)
    voucher_code = Varchar(length=14, null=True)
    offer_title_zh = Varchar(length=100)
    offer_title_en = Varchar(length=100, default="")
    settled_statement = ForeignKey(SettlementStatement, null=False)
    settled_period = Varchar(length=7)
    reason = Varchar(length=32)  # refund, partial_refund, dispute_lost, balance_carried
    amount_fen = Integer()  # negative: taken back from the provider
    occurred_at = Timestamptz()
    statement = ForeignKey(SettlementStatement, null=True, default=None)
