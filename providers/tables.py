from piccolo.columns import (
    JSONB,
    BigSerial,
    Boolean,
    Bytea,
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
UNION_NODE = LazyTableReference("UnionNode", module_path="marketplace.federation.tables")


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


class Location(Table, tablename="location"):
    id = Serial(primary_key=True)
    provider = ForeignKey(Provider, null=False)
    name = Varchar(length=100)
    address = Varchar(length=200)
    district = Varchar(length=32)
    latitude = DoublePrecision()
    longitude = DoublePrecision()
    opening_hours = JSONB(default={})


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
