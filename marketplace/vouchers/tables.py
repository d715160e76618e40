from piccolo.columns import BigSerial, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from marketplace.core.federation.tables import Member


class Voucher(Table, tablename="voucher"):
    """One claim of one offer by one member: an unguessable code, shown at the counter
    and redeemed exactly once. (pending →) issued → redeemed, or cancelled / expired / refunded;
    pending is a paid claim holding its stock until the payment succeeds."""

    id = BigSerial(primary_key=True)
    code = Varchar(length=14, unique=True)
    offer = ForeignKey(LazyTableReference("Offer", module_path="catalog.tables"), null=False)
    member = ForeignKey(Member, null=False)
    provider = ForeignKey(LazyTableReference("Provider", module_path="providers.tables"), null=False)
    status = Varchar(length=16, default="issued")
    # The start of the per-member limit window this claim counted in (see ClaimCount).
    period_start = Timestamptz()
    claimed_at = Timestamptz()
    expires_at = Timestamptz()
    redeemed_at = Timestamptz(null=True, default=None)
    redeemed_by = ForeignKey(
        LazyTableReference("ProviderUser", module_path="providers.tables"), null=True, default=None
    )
    redeemed_location = ForeignKey(
        LazyTableReference("Location", module_path="providers.tables"), null=True, default=None
    )
    cancelled_at = Timestamptz(null=True, default=None)
    # The member's one-tap answer after redemption: was the discount honoured as promised?
    honoured = Boolean(null=True, default=None)
    # What the voucher cost, fixed at claim time: the union's subsidy (owed to the provider
    # on redemption), the member's share paid online, and the points spent.
    subsidy_fen = Integer(default=0)
    paid_fen = Integer(default=0)
    points_spent = Integer(default=0)
    slot = ForeignKey(LazyTableReference("OfferSlot", module_path="catalog.tables"), null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)  # the booking reminder, the day before the slot
    # What of `paid_fen` went back to the member (a partial or full refund): statements and
    # reports count `paid_fen - refunded_fen`.
    refunded_fen = Integer(default=0)
    # The member's bank disputes the payment: not redeemable until the dispute is settled,
    # and its expiry is paused meanwhile (see services.lift_dispute_hold).
    disputed_at = Timestamptz(null=True, default=None)
    # Its provider was delisted with its vouchers cancelled while it was disputed: a dispute
    # the provider wins then cancels and refunds it (one it loses refunds it anyway).
    cancel_after_dispute = Boolean(default=False)


class ClaimCount(Table, tablename="claim_count"):
    """How many live claims a member holds of an offer in one limit window: the row that
    makes the per-member limit one atomic statement."""

    id = BigSerial(primary_key=True)
    member = ForeignKey(Member, null=False)
    offer = ForeignKey(LazyTableReference("Offer", module_path="catalog.tables"), null=False)
    period_start = Timestamptz()
    claims = Integer()


class RestockAlert(Table, tablename="restock_alert"):
    """到货提醒: a member asked to be told in the inbox when a sold-out offer has stock again."""

    id = BigSerial(primary_key=True)
    member = ForeignKey(Member, null=False)
    offer = ForeignKey(LazyTableReference("Offer", module_path="catalog.tables"), null=False)
    created_at = Timestamptz()
    notified_at = Timestamptz(null=True, default=None)
