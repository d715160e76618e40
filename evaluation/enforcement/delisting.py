"""Delisting a provider on an operator's decision: the provider's status, its standing,
a notice in its history, and the `evaluation.provider_delisted` event (the marketplace
then cancels and refunds its vouchers when the operator chose so)."""

from evaluation.enforcement import freeze, policy
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox
from providers import services as providers

PROVIDER_DELISTED = "evaluation.provider_delisted"


async def delist(
    connection, principal: Principal, provider_id: int, case_id: int, explanation: str, cancel_vouchers: bool
) -> None:
    await providers.transition(
        connection, provider_id, ("active", "suspended"), "delisted", "operator", principal.id, f"case {case_id}"
    )
    await connection.execute(
        "INSERT INTO provider_standing (provider, since) VALUES ($1, now()) ON CONFLICT (provider) DO NOTHING",
        provider_id,
    )
    previous = await connection.fetchval(
        "SELECT state FROM provider_standing WHERE provider = $1 FOR UPDATE", provider_id
    )
    await connection.execute(
        "UPDATE provider_standing SET state = 'delisted', since = now(), deadline = NULL WHERE provider = $1",
        provider_id,
    )
    await freeze.follow_standing(connection, provider_id, "delisted")
    await freeze.follow_case(connection, provider_id, "delisting", is_open=False)
    await policy.record_event(
        connection,
        provider_id,
        previous,
        "delisted",
        f"运营人员决定下架。说明：{explanation.strip().rstrip('。.')}。您可在本案中提出一次申诉。",
        "operator",
        principal.id,
        case_id,
    )
    await outbox.publish(
        PROVIDER_DELISTED, {"provider_id": provider_id, "case_id": case_id, "cancel_vouchers": cancel_vouchers}
    )
