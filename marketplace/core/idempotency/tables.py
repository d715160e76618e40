from piccolo.columns import JSONB, BigSerial, Bytea, Timestamptz, Varchar
from piccolo.table import Table


class IdempotencyKey(Table, tablename="idempotency_key"):
    """A state-changing request a client may retry, and the answer it got the first time."""

    id = BigSerial(primary_key=True)
    principal = Varchar(length=40)  # "member:123": keys are per caller
    key = Varchar(length=255)
    fingerprint = Bytea()  # SHA-256 of the operation and its body
    response = JSONB()
    created_at = Timestamptz()
