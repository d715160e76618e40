from piccolo.columns import JSONB, BigInt, BigSerial, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class OutboxEvent(Table, tablename="outbox_event"):
    """An event written in the same transaction as the business change it announces.

    The relay hands pending rows to Dramatiq and stamps `delivered_at`; a row from a
    rolled-back transaction never exists, so it is never delivered.
    """

    id = BigSerial(primary_key=True)
    topic = Varchar(length=64)
    payload = JSONB()
    created_at = Timestamptz()
    delivered_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)


class ProcessedEvent(Table, tablename="processed_event"):
    """What a consumer has already applied: (consumer, event_id) is unique, so a
    message delivered twice has one effect."""

    id = BigSerial(primary_key=True)
    consumer = Varchar(length=64)
    event_id = BigInt()
    processed_at = Timestamptz()
