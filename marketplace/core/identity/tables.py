from piccolo.columns import JSONB, BigInt, BigSerial, Boolean, Bytea, ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from marketplace.core.federation.tables import UnionNode


class Operator(Table, tablename="operator"):
    """Federation staff, scoped to one node and everything under it."""

    id = Serial(primary_key=True)
    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=50)
    node = ForeignKey(UnionNode, null=False)
    password_hash = Text()
    # Two-factor sign-in: the authenticator's key, encrypted like personal data (pii.encrypt),
    # and the last 30-second step whose code was accepted (each code works once).
    totp_secret_cipher = Bytea(null=True, default=None)
    totp_last_step = BigInt(null=True, default=None)
    must_change_password = Boolean(default=False)  # set by an administrator's reset
    totp_setup_required = Boolean(default=False)  # an administrator reset a lost authenticator
    # On top of the node scope: administrator (everything, including accounts and nodes),
    # reviewer (admissions, offers, cases, complaints, reveals), finance (money: settlements,
    # payouts, points, campaigns), analyst (reading only). See marketplace/core/identity/permissions.py.
    role = Varchar(length=16, default="administrator")
    active = Boolean(default=True)
    created_at = Timestamptz()


class AuthSession(Table, tablename="auth_session"):
    """A signed-in principal: a browser session (cookie) or an API bearer token.

    Only the SHA-256 of the token is stored, so a database leak reveals no session.
    """

    token_hash = Varchar(length=64, primary_key=True)
    principal_kind = Varchar(length=16)
    principal_id = Varchar(length=32)
    channel = Varchar(length=8)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    expires_at = Timestamptz()


class OperatorRecoveryCode(Table, tablename="operator_recovery_code"):
    """One of ten one-use codes that replace the authenticator once; only a keyed hash is kept."""

    id = BigSerial(primary_key=True)
    operator = ForeignKey(Operator, null=False)
    code_hash = Bytea()
    created_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class ApprovalRequest(Table, tablename="approval_request"):
    """A money change one operator proposed and a second one approves or rejects
    (marketplace/core/identity/approvals.py)."""

    id = BigSerial(primary_key=True)
    kind = Varchar(length=32)
    subject_id = BigInt()
    node = ForeignKey(UnionNode, null=False)
    payload = JSONB()
    status = Varchar(length=12, default="pending")
    proposed_by = ForeignKey(Operator, null=False)
    proposed_at = Timestamptz()
    decided_by = ForeignKey(Operator, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    note = Varchar(length=500, null=True, default=None)
