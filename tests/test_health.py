"""`/health` answers while the process lives; `/ready` names every dependency that is down."""

import pytest

from marketplace.runtime import components

pytestmark = pytest.mark.integration


async def test_ready_reports_every_component_with_its_latency(client):
    response = await client.get("/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["down"] == []
    assert set(body["components"]) == {"postgres", "redis", "meilisearch", "stripe"}
    for result in body["components"].values():
        assert result["status"] == "up"
        assert result["latency_ms"] >= 0


@pytest.mark.exclusive
@pytest.mark.slow
@pytest.mark.parametrize("name", ["meilisearch", "redis", "stripe"])
async def test_a_stopped_component_turns_ready_to_503_and_health_stays_up(client, name):
    component = components.by_name(name)
    if component.external():
        pytest.skip(f"{name} is external to this test session; it cannot be stopped here")
    assert component.stop()
    try:
        response = await client.get("/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["down"] == [name]
        assert body["components"][name]["status"] == "down"
        assert "error" in body["components"][name]
        assert (await client.get("/health")).status_code == 200
    finally:
        component.ensure_running()
    assert (await client.get("/ready")).status_code == 200
