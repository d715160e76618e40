from piccolo.columns import JSONB, BigInt, BigSerial, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEvent(Table, tablename="audit_event"):
    """Who did what to which record, and who read whose personal data. Append-only: a
    trigger refuses updates and deletes (migrations/marketplace/marketplace_0003_audit.py)."""

    id = BigSerial(primary_key=True)
    at = Timestamptz()
    actor_kind = Varchar(length=16)  # member, provider, operator, evaluator, or system
    actor_id = BigInt(null=True, default=None)
    action = Varchar(length=64)  # "<domain>.<verb>", e.g. evaluator.sample_export
    subject_kind = Varchar(length=32)
    subject_id = BigInt(null=True, default=None)
    reason = Text(null=True, default=None)
    details = JSONB(default={})  # counts and ids, never personal data
    node_path = Varchar(length=255, null=True, default=None)  # the actor's scope, for scoped reading
