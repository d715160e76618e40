"""The member card's forms (transfer, leave, reveal) show a refusal in the form that was
sent, in Chinese, at the field it names, with what was typed; not on the member list."""

import pytest

from marketplace.core.federation import services as federation
from tests.providers.test_pages import _login, _post

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def test_a_refused_transfer_shows_at_the_union_field_with_the_reason_typed(client, world):
    await _login(client, "console", world.operators["beijing"])
    member_id = world.members["chaoyang"][0]
    before = await federation.member_node(member_id)
    # A district is no grassroots union: crafted, since the card offers only grassroots ones.
    wrong = await _post(
        client,
        f"/console/members/{member_id}/transfer",
        {"node_id": str(world.nodes["haidian"]), "reason": "工作调动到海淀"},
    )
    assert wrong.status_code == 422
    form = wrong.text.split('data-testid="transfer-form"')[1].split("</form>")[0]
    assert 'value="工作调动到海淀"' in form and 'aria-invalid="true"' in form
    assert "会员须隶属于基层工会，请选择一个基层工会。" in form.split('data-testid="field-error"')[1]
    assert "转到其他工会" in form.split('data-testid="form-error"')[1].split("</div>")[0]  # the alert names the field
    assert await federation.member_node(member_id) == before

    unchosen = await _post(client, f"/console/members/{member_id}/transfer", {"node_id": "", "reason": "调动"})
    assert unchosen.status_code == 422
    assert "请选择工会。" in unchosen.text.split('data-testid="transfer-form"')[1].split('data-testid="field-error"')[1]


async def test_a_refused_reveal_shows_at_the_reason_with_what_was_typed(client, world):
    await _login(client, "console", world.operators["beijing"])
    member_id = world.members["chaoyang"][0]
    short = await _post(client, f"/console/members/{member_id}/reveal", {"field": "id_number", "reason": "查"})
    assert short.status_code == 422
    form = short.text.split('data-testid="reveal-form"')[1].split("</form>")[0]
    assert 'value="查"' in form and '<option value="id_number" selected>' in form
    assert "请填写查看原因，5 到 500 字。" in form.split('data-testid="field-error"')[1]
