"""The statement page's forms show a refusal in the form that was sent, in Chinese: a payout
account beside its field with what was typed, an approval refused above its button."""

import pytest

from tests.providers.test_pages import _login, _post
from tests.settlements.test_pages import _statement, last_month  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def test_a_refused_payout_account_shows_beside_its_field_with_what_was_typed(client, world, last_month):
    await _login(client, "console", world.operators["chaoyang"])
    assert (await _post(client, "/console/settlements/draft", {"period": last_month})).status_code == 200
    statement_id = await _statement(world)

    bad = await _post(client, f"/console/settlements/{statement_id}/payout-account", {"account_id": "12345-wrong"})
    assert bad.status_code == 422
    form = bad.text.split('data-testid="payout-account-form"')[1].split("</form>")[0]
    assert 'value="12345-wrong"' in form and 'aria-invalid="true"' in form
    assert "收款账户须为 Stripe 账户号" in form.split('data-testid="field-error"')[1]
    assert "收款账户" in form.split('data-testid="form-error"')[1].split("</div>")[0]  # the alert names the field

    refused = await _post(client, f"/console/settlements/{statement_id}/approve", {"revision": "1"})
    assert refused.status_code == 409
    actions = refused.text.split('id="actions-title"')[1]
    assert "该机构尚未设置收款账户，请先设置。" in actions.split('data-testid="form-error"')[1].split("</div>")[0]
    assert actions.index('data-testid="form-error"') < actions.index('data-testid="approve"')


async def test_a_month_that_cannot_be_drafted_shows_at_the_month_field(client, world, last_month):
    await _login(client, "console", world.operators["beijing"])
    refused = await _post(client, "/console/settlements/draft", {"period": "2026-13"})
    assert refused.status_code == 422
    form = refused.text.split('data-testid="draft-form"')[1].split("</form>")[0]
    assert 'value="2026-13"' in form and 'aria-invalid="true"' in form
    assert "请选择月份，格式如 2026-11。" in form.split('data-testid="field-error"')[1]
