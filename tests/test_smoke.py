import pytest

pytestmark = pytest.mark.integration


async def test_health(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_world_builds(world):
    assert world.nodes["cy_union"] > 0
    assert world.evaluator_key.startswith("ek_")
