"""`benefits draw verify`: from a draw in the database and from a downloaded result file;
a tampered file fails with the reason."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from marketplace.core.federation import services as federation
from marketplace.draws import services as draws
from tests.draws.test_draws import members, new_draw, operator
from tests.test_bench_smoke import benefits

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def test_verify_a_draw_from_the_database_and_from_its_file(world, tmp_path):
    draw_id = await new_draw(world, places=2, weights={"women": 3})
    for person in [await federation.member_principal(world.members["chaoyang"][0]), *await members(world, 7)]:
        await draws.enter(person, draw_id)
    await draws.run_draw(await operator(world), draw_id)
    exported = await draws.for_data_export(await federation.member_principal(world.members["chaoyang"][0]))
    assert [(row["draw"], row["weight"]) for row in exported] == [(draw_id, 3)]

    checked = benefits("draw", "verify", str(draw_id), timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "8 entries give exactly the published order (2 winners, 6 on the waitlist)" in checked.stdout

    result = await draws.published_result(draw_id)
    good, bad = tmp_path / "draw.json", tmp_path / "tampered.json"
    good.write_text(json.dumps(result, default=str))
    result["order"][0], result["order"][2] = result["order"][2], result["order"][0]
    bad.write_text(json.dumps(result, default=str))
    assert benefits("draw", "verify", "--file", str(good)).returncode == 0
    refused = benefits("draw", "verify", "--file", str(bad))
    assert refused.returncode != 0 and "differs from the recomputed one from position 1" in refused.stdout


async def test_an_open_draw_cannot_be_verified_yet(world, tmp_path):
    draw_id = await new_draw(world, closes_at=datetime.now(UTC) + timedelta(hours=2))
    path = tmp_path / "open.json"
    path.write_text(json.dumps(await draws.published_result(draw_id), default=str))
    refused = benefits("draw", "verify", "--file", str(path))
    assert refused.returncode != 0 and "the seed is not revealed yet" in refused.stdout
