"""The settlement list of the console: search by provider, filters by status and month,
pages, and bulk approval and payment with one note and a confirmation, where each
statement still goes through the four-eyes rules of the settlements service."""

import pytest

from marketplace.core.identity import approvals
from providers.settlements import services as settlements
from tests.providers.test_pages import HTML, _login
from tests.settlements.helpers import operator_principal, set_account, value
from tests.settlements.test_pages import ACCOUNT, _statement, last_month  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def _post(client, path: str, pairs: list[tuple[str, str]]):
    body: dict[str, list[str]] = {}
    for key, text in [*pairs, ("_csrf_token", client.cookies.get("csrftoken"))]:
        body.setdefault(key, []).append(text)
    return await client.post(path, data=body, headers=HTML)


async def test_the_list_searches_filters_and_keeps_the_filters_in_its_pages(client, world, last_month):
    await _login(client, "console", world.operators["beijing"])
    await _post(client, "/console/settlements/draft", [("period", last_month)])
    everything = await client.get("/console/settlements", headers=HTML)
    assert everything.text.count('data-testid="statement-row"') == 2
    assert 'data-testid="pager"' in everything.text and 'data-testid="bulk-bar"' in everything.text
    found = await client.get("/console/settlements?q=中关村", headers=HTML)
    assert found.text.count('data-testid="statement-row"') == 1 and "中关村体检中心" in found.text
    drafts = await client.get(f"/console/settlements?status=draft&period={last_month}", headers=HTML)
    assert drafts.text.count('data-testid="statement-row"') == 2
    assert f'<option value="{last_month}" selected>' in drafts.text
    paid = await client.get("/console/settlements?status=paid", headers=HTML)
    assert 'data-testid="queue-empty"' in paid.text and 'data-testid="statement-row"' not in paid.text
    assert (await client.get("/console/settlements?q=%25_%5C", headers=HTML)).status_code == 200


async def test_bulk_approval_asks_first_and_pay_stays_with_another_operator(client, world, last_month):
    await _login(client, "console", world.operators["beijing"])
    await _post(client, "/console/settlements/draft", [("period", last_month)])
    await set_account(world, ACCOUNT, "chaoyang")
    # Haidian is outside Chaoyang's scope: the national operator proposes, Beijing's approves.
    proposal = await settlements.set_payout_account(
        await operator_principal(world, "national"), world.providers["haidian"]["id"], ACCOUNT
    )
    await approvals.decide(await operator_principal(world, "beijing"), proposal["id"], True)
    chaoyang, haidian = await _statement(world), await _statement(world, "haidian")
    picked = [("ids", str(chaoyang)), ("ids", str(haidian))]
    back = ("back", "/console/settlements?status=draft")

    asked = await _post(
        client, "/console/settlements/bulk", [("action", "approve"), ("reason", "十一月对账无误"), back, *picked]
    )
    assert asked.status_code == 200 and 'data-testid="confirm"' in asked.text
    assert asked.text.count('name="ids"') == 2 and "中关村体检中心" in asked.text
    assert "十一月对账无误" in asked.text
    assert await value("SELECT count(*) FROM settlement_statement WHERE status = 'draft'") == 2  # nothing yet

    done = await _post(
        client,
        "/console/settlements/bulk",
        [
            ("action", "approve"),
            ("reason", "十一月对账无误"),
            back,
            ("confirm", "1"),
            *picked,
            (f"revision_{chaoyang}", "1"),
            (f"revision_{haidian}", "1"),
        ],
    )
    assert done.status_code in (302, 303)
    assert done.headers["location"].startswith("/console/settlements?status=draft&did=approve&done=2")
    assert await value("SELECT count(*) FROM settlement_statement WHERE status = 'approved'") == 2
    assert (
        await value(
            "SELECT count(*) FROM audit_event WHERE action = 'settlement.approved' AND reason = '十一月对账无误'"
        )
        == 2
    )
    listed = await client.get(done.headers["location"], headers=HTML)
    assert 'data-testid="bulk-done"' in listed.text

    # The approver cannot pay what they approved: both refused, nothing paid.
    own = await _post(client, "/console/settlements/bulk", [("action", "pay"), ("confirm", "1"), *picked])
    assert "done=0&failed=2" in own.headers["location"]
    assert await value("SELECT count(*) FROM settlement_statement WHERE status = 'paid'") == 0

    # Chaoyang's operator pays: only the statement in their scope is offered and paid.
    await _login(client, "console", world.operators["chaoyang"])
    asked = await _post(client, "/console/settlements/bulk", [("action", "pay"), *picked])
    assert asked.status_code == 200 and asked.text.count('name="ids"') == 1
    paid = await _post(client, "/console/settlements/bulk", [("action", "pay"), ("confirm", "1"), *picked])
    assert "done=1" in paid.headers["location"]
    assert await value("SELECT status FROM settlement_statement WHERE id = $1", chaoyang) == "paid"
    assert await value("SELECT status FROM settlement_statement WHERE id = $1", haidian) == "approved"


async def test_a_bulk_approval_needs_ticked_drafts(client, world, last_month):
    await _login(client, "console", world.operators["beijing"])
    await _post(client, "/console/settlements/draft", [("period", last_month)])
    nothing = await _post(client, "/console/settlements/bulk", [("action", "approve")])
    assert nothing.status_code == 422 and 'data-testid="form-error"' in nothing.text
    statement = await _statement(world)
    not_approved = await _post(client, "/console/settlements/bulk", [("action", "pay"), ("ids", str(statement))])
    assert not_approved.status_code == 422 and 'data-testid="form-error"' in not_approved.text


async def test_bulk_approval_of_one_statement_says_so_in_the_singular_in_english(client, world, last_month):
    await _login(client, "console", world.operators["beijing"])
    await _post(client, "/console/settlements/draft", [("period", last_month)])
    statement = await _statement(world)
    client.cookies.set("lang", "en")
    asked = await _post(
        client, "/console/settlements/bulk", [("action", "approve"), ("reason", "Checked"), ("ids", str(statement))]
    )
    assert asked.status_code == 200 and "Approve 1 statement?" in asked.text
    done = await client.get("/console/settlements?did=approve&done=1", headers=HTML)
    assert "1 statement approved; another operator pays it." in done.text
