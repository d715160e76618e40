"""The draw pages over HTTP: the console's form refuses at the field (422, in Chinese), an
operator sees only draws of their scope, a member's refused entry shows on the draw's page,
and the published result needs no account."""

import pytest

from tests.console.helpers import post, web_login
from tests.draws.test_draws import new_draw
from tests.factories import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]
HTML = {"accept": "text/html", "accept-language": "zh-CN"}


async def test_the_console_form_refuses_at_the_field_and_creates(client, world):
    await web_login(client, "console", world.operators["beijing"])
    form = {
        "offer_id": str(world.offers["public"]),
        "opens_at": "2026-12-01T09:00",
        "closes_at": "2026-12-01T08:00",  # before it opens
        "places": "2",
        "claim_hours": "48",
    }
    refused = await post(client, "/console/draws", form)
    assert refused.status_code == 422
    assert 'id="closes_at-error"' in refused.text and "报名截止时间须晚于开始时间" in refused.text
    assert 'value="2026-12-01T08:00"' in refused.text  # what was typed stays
    refused = await post(client, "/console/draws", {**form, "closes_at": "2099-01-01T08:00", "weight_gig": "20"})
    assert refused.status_code == 422 and "权重须为 1 到 10 的整数" in refused.text
    created = await post(client, "/console/draws", {**form, "closes_at": "2026-12-30T08:00", "weight_gig": "2"})
    assert created.status_code in (302, 303), created.text[:500]
    page = await client.get(created.headers["location"], headers=HTML)
    assert page.status_code == 200 and "抽签已创建" in page.text and "新就业形态劳动者 ×2" in page.text


async def test_an_operator_sees_only_draws_of_their_scope(client, world):
    draw_id = await new_draw(world)
    await web_login(client, "console", world.operators["hebei"])
    assert (await client.get(f"/console/draws/{draw_id}", headers=HTML)).status_code == 404
    assert "健身月卡public" not in (await client.get("/console/draws", headers=HTML)).text
    assert (await post(client, f"/console/draws/{draw_id}/run", {})).status_code == 404


async def test_a_refused_entry_shows_on_the_draws_page_and_the_result_is_public(client, world):
    draw_id = await new_draw(world, offer="women")
    public = await client.get(f"/draws/{draw_id}", headers=HTML)
    assert public.status_code == 200 and "登录后报名" in public.text and "报名截止后公开" in public.text
    result = (await client.get(f"/draws/{draw_id}/result.json")).json()
    assert result["seed"] is None and len(result["seed_hash"]) == 64 and result["order"] is None

    await client.get("/login")
    signed_in = await client.post(
        "/login",
        data={
            "username": world.members["haidian"][1],
            "password": PASSWORD,
            "_csrf_token": client.cookies.get("csrftoken"),
        },
    )
    assert signed_in.status_code in (302, 303), signed_in.text[:300]
    refused = await post(client, f"/draws/{draw_id}/enter", {})  # not in the offer's groups
    assert refused.status_code == 404 and 'data-testid="form-error"' in refused.text
    assert "参加抽签" in refused.text  # still the draw's page, with its button


async def test_a_member_withdraws_on_the_draws_page_and_the_console_counts_it(client, world):
    draw_id = await new_draw(world)
    await client.get("/login")
    await client.post(
        "/login",
        data={
            "username": world.members["chaoyang"][1],
            "password": PASSWORD,
            "_csrf_token": client.cookies.get("csrftoken"),
        },
    )
    assert (await post(client, f"/draws/{draw_id}/enter", {})).status_code in (302, 303)
    page = await client.get(f"/draws/{draw_id}", headers=HTML)
    assert 'data-testid="draw-withdraw-open"' in page.text and f'action="/draws/{draw_id}/withdraw"' in page.text
    done = await post(client, f"/draws/{draw_id}/withdraw", {})
    assert done.status_code in (302, 303) and done.headers["location"].endswith("?done=withdrawn")
    page = await client.get(done.headers["location"], headers=HTML)
    assert "已退出抽签" in page.text and 'data-testid="draw-enter"' in page.text  # may enter again
    refused = await post(client, f"/draws/{draw_id}/withdraw", {})
    assert refused.status_code == 409 and "你没有可退出的报名" in refused.text

    await web_login(client, "console", world.operators["beijing"])
    console = await client.get(f"/console/draws/{draw_id}", headers=HTML)
    assert 'data-testid="draw-entries">0<' in console.text and 'data-testid="draw-withdrawn">1<' in console.text
