"""Transactional outbox: events are rows written with the business change, then relayed.

`publish` inserts into `outbox_event` inside the caller's transaction, so an event
exists exactly when the change it announces was committed; topics and their payloads
are declared once, as msgspec Structs, in marketplace/core/jobs/topics.py. `relay_once`
hands pending rows to the Dramatiq actors subscribed to their topic and stamps them
delivered; a row it cannot hand over (Redis down) stays pending and is retried on the
next pass.
Consumers use `consume_once`, so a message delivered twice has one effect. `purge`
deletes what is no longer needed after the retention period.
"""

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import msgspec
import structlog
from dramatiq import Actor

from marketplace.core.db import engine
from marketplace.core.jobs.topics import BY_NAME, Event

log = structlog.get_logger(__name__)

_subscribers: dict[str, list[Actor]] = defaultdict(list)


def _declared(topic: type[Event] | str) -> type[Event]:
    if isinstance(topic, str):
        if topic not in BY_NAME:
            raise LookupError(f"outbox topic {topic!r} is not declared in marketplace/core/jobs/topics.py")
        return BY_NAME[topic]
    return topic


def subscribe(topic: type[Event] | str, actor: Actor) -> None:
    """`actor` receives (event id, payload dict) for each event of `topic`; it reads the
    payload with `Topic.read(payload)`."""
    name = _declared(topic).topic
    if actor not in _subscribers[name]:
        _subscribers[name].append(actor)


async def publish(event: Event | str, payload: dict | None = None) -> int:
    """Write `event` in the current transaction. The (topic name, dict) form remains for
    marketplace/payments until it builds its events; the dict must fit the declared Struct."""
    if isinstance(event, str):
        event = msgspec.convert(payload, _declared(event))
    transaction = engine().current_transaction.get()
    if transaction is None:
        raise RuntimeError("outbox.publish must run inside the transaction of the business change")
    row = await transaction.connection.fetchrow(
        "INSERT INTO outbox_event (topic, payload) VALUES ($1, $2::jsonb) RETURNING id",
        event.topic,
        msgspec.json.encode(event).decode(),
    )
    return row["id"]


async def relay_once(batch: int = 100) -> int:
    """Deliver up to `batch` pending events; returns how many were delivered."""
    delivered: list[int] = []
    async with engine().transaction() as transaction:
        connection = transaction.connection
        rows = await connection.fetch(
            "SELECT id, topic, payload FROM outbox_event WHERE delivered_at IS NULL "
            "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
            batch,
        )
        for row in rows:
            if row["topic"] not in _subscribers:
                log.warning("outbox_topic_without_subscribers", topic=row["topic"], event_id=row["id"])
            try:
                for actor in _subscribers.get(row["topic"], []):
                    actor.send(row["id"], json.loads(row["payload"]))
            except Exception as error:  # the broker is unreachable: keep the row pending
                log.warning("outbox_relay_failed", event_id=row["id"], error=type(error).__name__)
                await connection.execute(
                    "UPDATE outbox_event SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                    row["id"],
                    f"{type(error).__name__}: {error}"[:500],
                )
                break
            delivered.append(row["id"])
        if delivered:
            await connection.execute(
                "UPDATE outbox_event SET delivered_at = now(), attempts = attempts + 1 WHERE id = ANY($1)",
                delivered,
            )
    return len(delivered)


async def consume_once(consumer: str, event_id: int, effect: Callable[[], Awaitable[object]]) -> bool:
    """Apply `effect` once per (consumer, event): the marker and the effect commit together."""
    async with engine().transaction() as transaction:
        marker = await transaction.connection.fetchval(
            "INSERT INTO processed_event (consumer, event_id) VALUES ($1, $2) "
            "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING id",
            consumer,
            event_id,
        )
        if marker is None:
            return False
        await effect()
    return True


PURGE_BATCH = 10_000  # rows per transaction, so a purge never holds many locks for long

# Oldest first, through the primary key: ids grow with time, so the first rows scanned
# are the ones to delete.
_PURGE_EVENTS_SQL = """
DELETE FROM outbox_event WHERE id IN (
    SELECT id FROM outbox_event WHERE delivered_at < $1 ORDER BY id LIMIT $2)
"""
# A marker stays while its event may still be sent again: as long as the event is pending.
_PURGE_MARKERS_SQL = """
DELETE FROM processed_event WHERE id IN (
    SELECT p.id FROM processed_event p WHERE p.processed_at < $1 AND NOT EXISTS (
        SELECT 1 FROM outbox_event e WHERE e.id = p.event_id AND e.delivered_at IS NULL)
    ORDER BY p.id LIMIT $2)
"""


async def purge(retention: timedelta, now: datetime | None = None) -> tuple[int, int]:
    """Delete events delivered, and markers of events processed, more than `retention`
    ago; returns (events, markers) deleted. Pending events are never deleted.

    The retention must outlast any redelivery of a processed message (a worker killed
    before its acknowledgement: minutes; see docs/operations.md), or a late duplicate
    would find no marker and apply its effect again.
    """
    cutoff = (now or datetime.now(UTC)) - retention
    deleted = []
    for sql in (_PURGE_EVENTS_SQL, _PURGE_MARKERS_SQL):
        total = 0
        while True:
            async with engine().transaction() as transaction:
                status = await transaction.connection.execute(sql, cutoff, PURGE_BATCH)
            count = int(status.split()[-1])
            total += count
            if count < PURGE_BATCH:
                break
        deleted.append(total)
    return deleted[0], deleted[1]
