"""Jobs of the federation domain. Thin: load by id, call the service, safe to repeat."""

import dramatiq

from marketplace.jobs import broker  # noqa: F401  (sets the broker before actors are declared)
from marketplace.federation import services
from marketplace.jobs import outbox


@dramatiq.actor(queue_name="default", max_retries=5)
async def send_welcome(event_id: int, payload: dict) -> None:
    await outbox.consume_once(
        "federation.send_welcome", event_id,
        lambda: services.welcome_member(payload["member_id"], event_id),
    )


outbox.subscribe("member.joined", send_welcome)
