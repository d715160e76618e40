"""Jobs of the federation domain. Thin: load by id, call the service, safe to repeat."""

import dramatiq

from marketplace.core.federation import services
from marketplace.core.jobs import (
    broker,  # noqa: F401  (sets the broker before actors are declared)
    outbox,
    topics,
)


@dramatiq.actor(queue_name="default", max_retries=5)
async def send_welcome(event_id: int, payload: dict) -> None:
    event = topics.MemberJoined.read(payload)
    await outbox.consume_once(
        "federation.send_welcome",
        event_id,
        lambda: services.welcome_member(event.member_id, event_id),
    )


outbox.subscribe(topics.MemberJoined, send_welcome)


@dramatiq.actor(queue_name="default", max_retries=3, time_limit=3_600_000)
async def run_roster_import(event_id: int, payload: dict) -> None:
    """A large roster file; a retry starts it again (nothing of an unfinished run was committed)."""
    from marketplace.core.federation.roster import services as roster

    await roster.run_import(topics.RosterImportQueued.read(payload).import_id)


outbox.subscribe(topics.RosterImportQueued, run_roster_import)
