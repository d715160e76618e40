"""The settlement pages: the console drafts a month, approves and pays a statement and
exports it; the owner reads and exports its own; CSV opens in Excel with Chinese intact."""

import csv
import io
from datetime import timedelta

import pytest

from providers.settlements import services as settlements
from tests.providers.test_pages import HTML, _login, _post
from tests.settlements.helpers import add_offer, move_redemption, redeemed, value

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]
ACCOUNT = "acct_1Nv0FGQ9RKHgCVdK"


@pytest.fixture
async def last_month(world) -> str:
    """Vouchers of both providers redeemed last month (Shanghai), not yet drafted."""
    period = settlements.previous_period()
    start = settlements.period_bounds(period)[0]
    for voucher in [
        await redeemed(world, world.offers["public"], paid_fen=1999),
        await redeemed(world, world.offers["women"]),
        await redeemed(world, await add_offer(world, "haidian", subsidy_fen=800), provider="haidian"),
    ]:
        await move_redemption(voucher["id"], start + timedelta(days=3))
    return period


async def _statement(world, key="chaoyang") -> int:
    return await value("SELECT id FROM settlement_statement WHERE provider = $1", world.providers[key]["id"])


async def test_an_operator_drafts_approves_and_pays_from_the_console(client, world, last_month):
    await _login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/settlements", headers=HTML)
    assert page.status_code == 200 and "结算" in page.text and f'value="{last_month}"' in page.text
    assert 'data-testid="statement-row"' not in page.text
    drafted = await _post(client, "/console/settlements/draft", {"period": last_month})
    assert drafted.status_code == 200 and 'data-testid="draft-result"' in drafted.text
    assert drafted.text.count('data-testid="statement-row"') == 1  # Haidian's is outside Chaoyang's scope
    statement_id = await _statement(world)
    assert await _statement(world, "haidian") is None

    detail = await client.get(f"/console/settlements/{statement_id}", headers=HTML)
    assert detail.text.count('data-testid="statement-line"') == 2
    assert 'data-status="draft"' in detail.text and "¥79.99" in detail.text  # 3000 + 3000 + 1999 fen
    assert 'data-testid="approve"' in detail.text and 'data-testid="pay"' not in detail.text
    refused = await _post(client, f"/console/settlements/{statement_id}/approve", {"revision": "1"})
    assert refused.status_code == 409 and "尚未设置收款账户" in refused.text
    bad = await _post(client, f"/console/settlements/{statement_id}/payout-account", {"account_id": "12345"})
    assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text
    assert (
        await _post(client, f"/console/settlements/{statement_id}/payout-account", {"account_id": ACCOUNT})
    ).status_code in (302, 303)
    proposed = await client.get(f"/console/settlements/{statement_id}", headers=HTML)
    assert 'data-testid="pending-account"' in proposed.text and ACCOUNT in proposed.text
    # The proposer cannot approve their own proposal; Beijing's operator does.
    queue = await client.get("/console/approvals", headers=HTML)
    assert 'data-testid="own-proposal"' in queue.text and 'data-testid="approve"' not in queue.text
    approval_id = await value("SELECT id FROM approval_request WHERE kind = 'payout_account'")
    own = await _post(client, f"/console/approvals/{approval_id}/approve", {})
    assert own.status_code == 409 and "另一位操作员" in own.text
    await _login(client, "console", world.operators["beijing"])
    assert (await _post(client, f"/console/approvals/{approval_id}/approve", {})).status_code in (302, 303)
    await _login(client, "console", world.operators["chaoyang"])
    assert (await _post(client, f"/console/settlements/{statement_id}/approve", {"revision": "1"})).status_code in (
        302,
        303,
    )
    approved = await client.get(f"/console/settlements/{statement_id}", headers=HTML)
    assert 'data-status="approved"' in approved.text and 'data-testid="pay"' in approved.text
    own_pay = await _post(client, f"/console/settlements/{statement_id}/pay", {})
    assert own_pay.status_code == 409 and 'data-testid="form-error"' in own_pay.text
    await _login(client, "console", world.operators["beijing"])
    assert (await _post(client, f"/console/settlements/{statement_id}/pay", {})).status_code in (302, 303)
    paid = await client.get(f"/console/settlements/{statement_id}", headers=HTML)
    assert 'data-status="paid"' in paid.text and 'data-testid="payout-reference"' in paid.text
    reference = await value("SELECT payout_reference FROM settlement_statement WHERE id = $1", statement_id)
    assert reference.startswith("tr_") and reference in paid.text
    again = await _post(client, f"/console/settlements/{statement_id}/approve", {})
    assert again.status_code == 409 and 'data-testid="form-error"' in again.text


async def test_drafting_a_month_that_is_not_over_is_refused_on_the_page(client, world, last_month):
    await _login(client, "console", world.operators["beijing"])
    running = settlements.period_of(settlements.period_bounds(last_month)[1] + timedelta(days=1))
    refused = await _post(client, "/console/settlements/draft", {"period": running})
    assert refused.status_code == 422 and "尚未结束" in refused.text
    assert (await _post(client, "/console/settlements/draft", {"period": "last month"})).status_code == 422
    assert await value("SELECT count(*) FROM settlement_statement") == 0


async def test_pages_follow_the_operators_scope_and_the_owner(client, world, last_month):
    await _login(client, "console", world.operators["beijing"])
    assert (await _post(client, "/console/settlements/draft", {"period": last_month})).status_code == 200
    haidian = await _statement(world, "haidian")
    chaoyang = await _statement(world)
    await _login(client, "console", world.operators["chaoyang"])
    assert (await client.get(f"/console/settlements/{haidian}", headers=HTML)).status_code == 404
    assert (await client.get(f"/console/settlements/{haidian}/statement.csv")).status_code == 404
    assert (await _post(client, f"/console/settlements/{haidian}/approve", {})).status_code == 404
    assert await value("SELECT status FROM settlement_statement WHERE id = $1", haidian) == "draft"

    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    mine = await client.get("/provider/settlements", headers=HTML)
    assert mine.status_code == 200 and mine.text.count('data-testid="statement-row"') == 1
    assert f'href="/provider/settlements/{chaoyang}"' in mine.text
    detail = await client.get(f"/provider/settlements/{chaoyang}", headers=HTML)
    assert detail.status_code == 200 and 'data-testid="csv-link"' in detail.text and "¥79.99" in detail.text
    assert (await client.get(f"/provider/settlements/{haidian}", headers=HTML)).status_code == 404
    assert (await client.get(f"/provider/settlements/{haidian}/statement.csv")).status_code == 404
    await _login(client, "provider", world.providers["chaoyang"]["staff"])
    assert (await client.get("/provider/settlements", headers=HTML)).status_code == 403
    assert (await client.get(f"/provider/settlements/{chaoyang}/statement.csv")).status_code == 403


def _rows(response) -> list[list[str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_the_csv_export_for_operators_and_owners(client, world, last_month):
    await _login(client, "console", world.operators["chaoyang"])
    await _post(client, "/console/settlements/draft", {"period": last_month})
    statement_id = await _statement(world)
    response = await client.get(f"/console/settlements/{statement_id}/statement.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert f"statement-{world.providers['chaoyang']['id']}-{last_month}.csv" in response.headers["content-disposition"]
    rows = _rows(response)
    assert rows[0] == ["券码", "商品/优惠", "核销时间", "工会补贴（元）", "会员线上支付（元）", "应付金额（元）"]
    codes = {row[0] for row in rows[1:-1]}
    assert codes == set(
        await value("SELECT array_agg(code) FROM voucher WHERE provider = $1", world.providers["chaoyang"]["id"])
    )
    assert sorted(row[3:] for row in rows[1:-1]) == [["30.00", "0.00", "30.00"], ["30.00", "19.99", "49.99"]]
    assert {row[1] for row in rows[1:-1]} == {"健身月卡public", "健身月卡women"}
    assert all(row[2].startswith(last_month) for row in rows[1:-1])  # Shanghai time
    assert rows[-1] == ["合计", "2", "", "60.00", "19.99", "79.99"]

    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    client.cookies.set("lang", "en")
    english = await client.get(f"/provider/settlements/{statement_id}/statement.csv")
    rows = _rows(english)
    assert rows[0][0] == "Voucher code" and rows[-1][0] == "Total" and rows[-1][-1] == "79.99"
    assert {row[1] for row in rows[1:-1]} == {"Monthly pass public", "Monthly pass women"}


@pytest.mark.unit
def test_csv_cells_cannot_become_formulas():
    from datetime import UTC, datetime

    from providers.schemas import StatementLineRead, StatementRead

    at = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    statement = StatementRead(
        id=1,
        provider_id=2,
        provider_name="x",
        provider_node_id=3,
        period="2026-11",
        period_start=at,
        period_end=at,
        status="draft",
        revision=1,
        voucher_count=1,
        subsidy_fen=5,
        paid_fen=0,
        total_fen=5,
        currency="CNY",
        drafted_at=at,
        approved_at=None,
        approved_by=None,
        paid_at=None,
        paid_by=None,
        payout_account=None,
        payout_reference=None,
        lines=[
            StatementLineRead(
                voucher_id=1,
                voucher_code="ABC",
                offer_id=1,
                offer_title_zh='=HYPERLINK("x")',
                offer_title_en="",
                redeemed_at=at,
                subsidy_fen=5,
                paid_fen=0,
            )
        ],
    )
    rows = list(csv.reader(io.StringIO(settlements.to_csv(statement, list("abcdef"), "T").decode("utf-8-sig"))))
    assert rows[1] == ["ABC", '\'=HYPERLINK("x")', "2026-11-03 10:00:00", "0.05", "0.00", "0.05"]
