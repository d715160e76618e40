"""Follow-up samples: the weekly draw takes only recent redemptions of the providers in each
evaluator's scope, and repeats nothing; the export names only members who consented, and
every export is audited; members turn their consent on and off on their account page."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from itertools import count

import asyncpg
import pytest

from evaluation.evaluators import actors as evaluator_actors, samples, services as evaluation
from marketplace.core.db import engine
from marketplace.core.federation import consent, services as federation
from marketplace.core.jobs import periodic
from tests.factories import PASSWORD, add_member, add_provider

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]
HTML = {"accept": "text/html"}
NOW = datetime.now(UTC).replace(microsecond=0)
_vouchers = count(1)


async def value(sql: str, *args):
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(sql, *args)


async def redemption(world, provider: int, member: int, days_ago: float) -> int:
    """A redemption row as the marketplace's feed would write it."""
    category = await value("SELECT id FROM category LIMIT 1")
    at = NOW - timedelta(days=days_ago)
    return await value(
        "INSERT INTO redemption (voucher, provider, offer, category, member, redeemed_at, survey_due_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        next(_vouchers),
        provider,
        world.offers["public"],
        category,
        member,
        at,
    )


async def drawn(org: int) -> set[int]:
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch("SELECT redemption FROM follow_up_sample WHERE org = $1", org)
    return {row["redemption"] for row in rows}


async def second_org(world, node: str = "haidian") -> tuple[int, str]:
    org = await value(
        "INSERT INTO evaluator_org (name, node) VALUES ('海淀区满意度调查所', $1) RETURNING id", world.nodes[node]
    )
    return org, await evaluation.create_api_key(org)


async def test_the_draw_takes_recent_redemptions_of_the_orgs_scope_only(world):
    member = world.members["chaoyang"][0]
    cy, hd = world.providers["chaoyang"]["id"], world.providers["haidian"]["id"]
    hebei = (await add_provider(world.nodes["shijiazhuang"], "石家庄老字号饭店", "91130100MA01JKLM3Z"))["id"]
    recent_cy = {await redemption(world, cy, member, days) for days in (1, 2, 3, 10, 20)}
    recent_hd = {await redemption(world, hd, member, 5)}
    old = {await redemption(world, cy, member, 31), await redemption(world, hd, member, 60)}
    out_of_scope = {await redemption(world, hebei, member, 1)}
    haidian_org, _ = await second_org(world)

    total = await samples.draw_samples(now=NOW, size=3)

    beijing = await drawn(world.evaluator_org)
    assert len(beijing & recent_cy) == 3 and recent_hd <= beijing  # at most three per provider
    assert not beijing & (old | out_of_scope)
    assert await drawn(haidian_org) == recent_hd  # a district evaluator: its district's provider only
    assert total == 5
    # A rerun in the same week draws nothing more.
    assert await samples.draw_samples(now=NOW + timedelta(days=1), size=3) == 0
    # A week later the rest of the recent redemptions are drawn; none is drawn twice.
    assert await samples.draw_samples(now=NOW + timedelta(days=7), size=3) == 2  # cy's last two; hd's only one is taken
    assert await drawn(world.evaluator_org) == recent_cy | recent_hd  # every recent one, each once
    assert await value("SELECT count(*) FROM follow_up_sample WHERE org = $1", world.evaluator_org) == 6


async def test_the_sample_size_is_configurable(world, monkeypatch):
    member = world.members["chaoyang"][0]
    for days in range(1, 9):
        await redemption(world, world.providers["chaoyang"]["id"], member, days)
    assert samples.sample_size() == 5
    monkeypatch.setenv("EVALUATOR_SAMPLE_SIZE", "7")
    assert await samples.draw_samples(now=NOW) == 7


async def test_inactive_organisations_get_no_samples(world):
    await redemption(world, world.providers["chaoyang"]["id"], world.members["chaoyang"][0], 1)
    await value("UPDATE evaluator_org SET active = false WHERE id = $1 RETURNING id", world.evaluator_org)
    assert await samples.draw_samples(now=NOW) == 0


def test_the_draw_runs_every_monday_early_in_shanghai():
    trigger = periodic.trigger_of(evaluator_actors.draw_follow_up_samples)
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))  # a Monday, 20:00 local
    assert fire.astimezone(samples.ZoneInfo("Asia/Shanghai")).strftime("%a %Y-%m-%d %H:%M") == "Mon 2026-12-07 02:00"


async def test_the_actor_draws_and_is_safe_to_repeat(world):
    await redemption(world, world.providers["chaoyang"]["id"], world.members["chaoyang"][0], 1)
    job = evaluator_actors.draw_follow_up_samples.fn.__wrapped__
    await job()
    await job()
    assert await value("SELECT count(*) FROM follow_up_sample") == 1


# Export -------------------------------------------------------------------------------------------------


async def _login_desk(client, key: str) -> None:
    await client.get("/evaluator/login")
    response = await client.post(
        "/evaluator/login", data={"username": "", "password": key, "_csrf_token": client.cookies.get("csrftoken")}
    )
    assert response.status_code in (302, 303), response.text


async def _consenting_world(world) -> dict:
    """Two members with recent redemptions at the Chaoyang gym, one of whom consented."""
    yes_id, yes_phone = await add_member(world.nodes["cy_union"], 41, "赵同意")
    no_id, no_phone = await add_member(world.nodes["cy_union"], 42, "钱不同意")
    await consent.set_evaluator_contact(await federation.member_principal(yes_id), True)
    cy = world.providers["chaoyang"]["id"]
    await redemption(world, cy, yes_id, 2)
    await redemption(world, cy, no_id, 3)
    await samples.draw_samples(now=NOW)
    return {"yes": (yes_id, yes_phone), "no": (no_id, no_phone)}


def _rows(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())  # Excel reads the Chinese
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_the_export_names_only_consenting_members_and_is_audited(client, world):
    members = await _consenting_world(world)
    await _login_desk(client, world.evaluator_key)
    page = await client.get("/evaluator/samples", headers=HTML)
    assert page.status_code == 200 and page.text.count('data-testid="sample"') == 2
    assert "赵同意" not in page.text and members["yes"][1] not in page.text  # the list shows no personal data

    response = await client.post(
        "/evaluator/samples/export", headers=HTML, data={"_csrf_token": client.cookies.get("csrftoken")}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    header, *rows = _rows(response.content)
    assert header[-3:] == ["是否同意回访", "会员", "手机号"]
    by_consent = {row[-3]: row for row in rows}
    assert by_consent["已同意"][-2:] == ["赵同意", members["yes"][1]]
    assert by_consent["未同意"][-2:] == ["钱**意", ""]
    assert "钱不同意" not in response.text and members["no"][1] not in response.text

    async with engine().transaction() as transaction:
        [event] = await transaction.connection.fetch("SELECT * FROM audit_event")
    assert (event["action"], event["actor_kind"], event["actor_id"], event["subject_kind"], event["subject_id"]) == (
        "evaluator.sample_export",
        "evaluator",
        world.evaluator_org,
        "evaluator_org",
        world.evaluator_org,
    )
    assert json.loads(event["details"]) == {"rows": 2, "with_contact": 1, "providers": 1}
    assert event["node_path"] == (await federation.get_node(world.nodes["beijing"])).path
    assert "赵" not in event["details"] and members["yes"][1] not in event["details"]


async def test_every_api_export_is_audited_and_the_list_has_no_personal_data(client, world):
    members = await _consenting_world(world)
    headers = {"Authorization": f"Bearer {world.evaluator_key}"}
    listed = await client.get("/api/v1/evaluator/samples", headers=headers)
    assert listed.status_code == 200 and len(listed.json()) == 2
    assert "member" not in json.dumps(listed.json()) and members["yes"][1] not in listed.text
    for _ in range(2):
        response = await client.get("/api/v1/evaluator/samples/export?reason=weekly%20call-back", headers=headers)
        assert response.status_code == 200
        header, *rows = _rows(response.content)
        assert header[-3:] == ["consented", "name", "phone"]
        assert sorted(row[-3] for row in rows) == ["no", "yes"]
    assert (
        await value(
            "SELECT count(*) FROM audit_event WHERE action = 'evaluator.sample_export' AND reason = 'weekly call-back'"
        )
        == 2
    )


async def test_an_evaluator_exports_only_its_own_samples(client, world):
    await _consenting_world(world)
    haidian_org, key = await second_org(world)  # the Chaoyang gym is outside its district
    response = await client.get("/api/v1/evaluator/samples/export", headers={"Authorization": f"Bearer {key}"})
    _header, *rows = _rows(response.content)
    assert rows == []
    assert await value("SELECT (details ->> 'rows')::int FROM audit_event WHERE actor_id = $1", haidian_org) == 0


async def test_the_audit_log_is_append_only(client, world):
    await _consenting_world(world)
    await client.get("/api/v1/evaluator/samples/export", headers={"Authorization": f"Bearer {world.evaluator_key}"})
    for statement in ("UPDATE audit_event SET reason = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(asyncpg.exceptions.RaiseError, match="append-only"):
            await value(statement)
    assert await value("SELECT count(*) FROM audit_event") == 1


async def test_members_turn_evaluator_contact_on_and_off_on_their_account_page(client, world):
    member_id, phone = world.members["chaoyang"]
    await client.get("/login")
    response = await client.post(
        "/login", data={"username": phone, "password": PASSWORD, "_csrf_token": client.cookies.get("csrftoken")}
    )
    assert response.status_code in (302, 303), response.text
    page = await client.get("/me", headers=HTML)
    assert 'data-testid="evaluator-contact-toggle"' in page.text and "允许第三方评价机构联系我" in page.text
    principal = await federation.member_principal(member_id)
    assert await consent.evaluator_contact(principal) is False  # off unless the member turns it on

    async def toggle(allow: str):
        return await client.post(
            "/me/evaluator-contact", headers=HTML, data={"allow": allow, "_csrf_token": client.cookies.get("csrftoken")}
        )

    assert (await toggle("1")).status_code in (302, 303)
    assert await consent.evaluator_contact(principal) is True
    assert "不再允许第三方评价机构联系我" in (await client.get("/me", headers=HTML)).text
    assert (await toggle("0")).status_code in (302, 303)
    assert await consent.evaluator_contact(principal) is False
    assert await value("SELECT preferences ->> 'evaluator_contact' FROM member WHERE id = $1", member_id) == "false"
