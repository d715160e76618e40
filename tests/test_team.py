"""Administrators manage the unions below theirs and the operator accounts of their
subtree, with roles; every change is audited with its before and after."""

import pytest

from tests.providers.test_pages import _login, _post
from tests.test_errors import assert_problem, bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

STRONG = "Tongzhou-Union-2026!"


async def test_an_administrator_adds_a_union_and_an_analyst_who_cannot_reveal(client, world):
    beijing = await bearer(client, "operator", world.operators["beijing"])
    node = await client.post(
        "/api/v1/console/nodes",
        headers=beijing,
        json={
            "parent_id": world.nodes["beijing"],
            "level": "district",
            "code": "110112",
            "name_zh": "通州区总工会",
            "name_en": "Tongzhou",
        },
    )
    assert node.status_code == 201, node.text
    assert_problem(
        await client.post(
            "/api/v1/console/nodes",
            headers=beijing,
            json={
                "parent_id": world.nodes["hebei"],
                "level": "district",
                "code": "130102",
                "name_zh": "长安区总工会",
                "name_en": "Chang'an",
            },
        ),
        404,
        "node_not_found",
    )
    weak = await client.post(
        "/api/v1/console/operators",
        headers=beijing,
        json={
            "username": "tz_analyst",
            "display_name": "通州分析员",
            "node_id": node.json()["id"],
            "role": "analyst",
            "password": "password123",
        },
    )
    assert assert_problem(weak, 422, "weak_password")["errors"][0]["field"] == "password"
    created = await client.post(
        "/api/v1/console/operators",
        headers=beijing,
        json={
            "username": "tz_analyst",
            "display_name": "通州分析员",
            "node_id": node.json()["id"],
            "role": "analyst",
            "password": STRONG,
        },
    )
    assert created.status_code == 201
    taken = await client.post(
        "/api/v1/console/operators",
        headers=beijing,
        json={
            "username": "tz_analyst",
            "display_name": "又一个",
            "node_id": node.json()["id"],
            "role": "analyst",
            "password": STRONG,
        },
    )
    assert_problem(taken, 409, "username_taken")

    analyst = await bearer(client, "operator", "tz_analyst", STRONG)
    assert_problem(await client.get("/api/v1/console/operators", headers=analyst), 403, "role_required")
    # A member of the analyst's own subtree would still be out of reach: analysts read figures only.
    member_id = world.members["chaoyang"][0]
    chaoyang_analyst = await client.post(
        "/api/v1/console/operators",
        headers=beijing,
        json={
            "username": "cy_analyst",
            "display_name": "朝阳分析员",
            "node_id": world.nodes["chaoyang"],
            "role": "analyst",
            "password": STRONG,
        },
    )
    cy = await bearer(client, "operator", "cy_analyst", STRONG)
    assert_problem(
        await client.post(
            f"/api/v1/console/members/{member_id}/reveal",
            headers=cy,
            json={"field": "phone", "reason": "只是想看看而已"},
        ),
        403,
        "role_required",
    )

    hebei = await bearer(client, "operator", world.operators["hebei"])
    assert_problem(
        await client.post(
            f"/api/v1/console/operators/{chaoyang_analyst.json()['id']}", headers=hebei, json={"role": "administrator"}
        ),
        404,
        "operator_not_found",
    )
    changed = await client.post(
        f"/api/v1/console/operators/{chaoyang_analyst.json()['id']}",
        headers=beijing,
        json={"role": "reviewer", "active": False},
    )
    assert changed.json() == {"id": chaoyang_analyst.json()["id"], "role": "reviewer", "active": False}
    assert (await client.get("/api/v1/me", headers=cy)).status_code == 401  # switched off: signed out
    events = (await client.get("/api/v1/console/audit?action=operator.changed", headers=beijing)).json()
    assert events[0]["details"] == {
        "before": {"role": "analyst", "active": True},
        "after": {"role": "reviewer", "active": False},
    }
    mine = [o["username"] for o in (await client.get("/api/v1/console/operators", headers=beijing)).json()]
    assert "tz_analyst" in mine and "op_hebei" not in mine


async def test_the_team_page(client, world):
    await _login(client, "console", world.operators["beijing"])
    page = await client.get("/console/team")
    assert 'data-testid="operator-form"' in page.text and "op_chaoyang" in page.text and "op_hebei" not in page.text
    refused = await _post(
        client,
        "/console/team/operators",
        {
            "username": "x",
            "display_name": "新人",
            "node_id": str(world.nodes["chaoyang"]),
            "role": "reviewer",
            "password": STRONG,
        },
    )
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    added = await _post(
        client,
        "/console/team/operators",
        {
            "username": "cy_reviewer",
            "display_name": "朝阳审核员",
            "node_id": str(world.nodes["chaoyang"]),
            "role": "reviewer",
            "password": STRONG,
        },
    )
    assert added.status_code in (302, 303)
    assert "cy_reviewer" in (await client.get("/console/team")).text


async def test_every_change_by_an_operator_or_provider_is_in_the_audit_log(client, world):
    beijing = await bearer(client, "operator", world.operators["beijing"])
    await client.post(
        "/api/v1/console/points/grants",
        headers=beijing,
        json={"node_id": world.nodes["chaoyang"], "amount": 5, "reason": "春节慰问"},
    )
    refused = await client.post(
        "/api/v1/console/points/grants",
        headers=beijing,
        json={"node_id": world.nodes["hebei"], "amount": 5, "reason": "越权"},
    )
    assert refused.status_code == 404
    staff = await bearer(client, "provider", world.providers["chaoyang"]["owner"])
    await client.post(f"/api/v1/provider/offers/{world.offers['public']}/pause", headers=staff)
    events = (await client.get("/api/v1/console/audit?subject_kind=route", headers=beijing)).json()
    routes = [(e["actor_kind"], e["action"], e["details"]["path"]) for e in events]
    assert ("operator", "http.post", "/api/v1/console/points/grants") in routes
    assert ("provider", "http.post", f"/api/v1/provider/offers/{world.offers['public']}/pause") in routes
    assert len([r for r in routes if r[2] == "/api/v1/console/points/grants"]) == 1  # the refused one changed nothing


async def test_an_analyst_changes_nothing_anywhere(client, world):
    beijing = await bearer(client, "operator", world.operators["beijing"])
    await client.post(
        "/api/v1/console/operators",
        headers=beijing,
        json={
            "username": "bj_analyst",
            "display_name": "北京分析员",
            "node_id": world.nodes["beijing"],
            "role": "analyst",
            "password": STRONG,
        },
    )
    analyst = await bearer(client, "operator", "bj_analyst", STRONG)
    assert (await client.get("/api/v1/console/providers", headers=analyst)).status_code == 200  # reading is fine
    for path, body in (
        ("/api/v1/console/points/grants", {"node_id": world.nodes["chaoyang"], "amount": 5, "reason": "春节慰问"}),
        (
            f"/api/v1/console/providers/{world.providers['chaoyang']['id']}/decisions",
            {"action": "suspend", "reason": "分析员不能暂停"},
        ),
    ):
        assert_problem(await client.post(path, headers=analyst, json=body), 403, "role_required")
    assert (await client.delete("/api/v1/auth/token", headers=analyst)).status_code == 204  # signing out is fine


async def test_a_refused_role_change_shows_its_reason_beside_the_role(client, world):
    """The role-change form of a row keeps its refusal in that row, in Chinese, not on top only."""
    await _login(client, "console", world.operators["beijing"])
    beijing = await bearer(client, "operator", world.operators["beijing"])
    chaoyang = next(
        o
        for o in (await client.get("/api/v1/console/operators", headers=beijing)).json()
        if o["username"] == world.operators["chaoyang"]
    )
    refused = await _post(client, f"/console/team/operators/{chaoyang['id']}", {"role": "superuser"})
    assert refused.status_code == 422
    row = refused.text.split(f'action="/console/team/operators/{chaoyang["id"]}"')[1].split("</form>")[0]
    assert 'aria-invalid="true"' in row and "请选择一个角色。" in row.split('data-testid="field-error"')[1]
    assert 'data-testid="form-error"' in refused.text  # the alert on top points down to the field
