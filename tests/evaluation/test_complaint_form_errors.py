"""The console's close form of a complaint: a refused resolution shows at that complaint's
field, in Chinese, with the text typed kept; a complaint closed meanwhile says so on top."""

import pytest

from tests.evaluation.test_complaint_rules import COMPLAINT
from tests.evaluation.test_quality_loop import redeemed_voucher
from tests.providers.test_pages import _login, _post
from tests.test_errors import bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def test_a_refused_resolution_shows_at_its_complaint_with_the_text_typed(client, world):
    _, voucher = await redeemed_voucher(world)
    member = await bearer(client, "member", world.members["chaoyang"][1])
    filed = await client.post(f"/api/v1/vouchers/{voucher.id}/complaints", headers=member, json=COMPLAINT)
    assert filed.status_code == 201, filed.text
    complaint_id = filed.json()["id"]
    await _login(client, "console", world.operators["chaoyang"])

    short = await _post(client, f"/console/complaints/{complaint_id}/close", {"resolution": "好"})
    assert short.status_code == 422
    form = short.text.split(f'action="/console/complaints/{complaint_id}/close"')[1].split("</form>")[0]
    assert "好</textarea>" in form and 'aria-invalid="true"' in form
    assert "请用 2 到 2000 字填写处理结果。" in form.split('data-testid="field-error"')[1]
    assert 'data-testid="form-error"' in short.text  # the alert on top points down to the field

    assert (await _post(client, f"/console/complaints/{complaint_id}/close", {"resolution": "已调解"})).status_code in (
        302,
        303,
    )
    again = await _post(client, f"/console/complaints/{complaint_id}/close", {"resolution": "再次结案"})
    assert again.status_code == 404
    assert "您的管辖范围内没有这条未结投诉。" in again.text.split('data-testid="form-error"')[1].split("</div>")[0]


async def test_a_refused_close_shows_again_on_the_list_page_it_was_sent_from(client, world):
    _, voucher = await redeemed_voucher(world)
    member = await bearer(client, "member", world.members["chaoyang"][1])
    complaint_id = (
        await client.post(f"/api/v1/vouchers/{voucher.id}/complaints", headers=member, json=COMPLAINT)
    ).json()["id"]
    await _login(client, "console", world.operators["chaoyang"])
    short = await _post(
        client,
        f"/console/complaints/{complaint_id}/close",
        {"resolution": "好", "back": "/console/complaints?status=open"},
    )
    assert short.status_code == 422
    # The list keeps the filter it was sent from: its pager and the forms' way back say so.
    assert 'name="back" value="/console/complaints?status=open"' in short.text
    form = short.text.split(f'action="/console/complaints/{complaint_id}/close"')[1].split("</form>")[0]
    assert "好</textarea>" in form and 'data-testid="field-error"' in form


async def test_a_refused_answer_shows_at_its_complaint_with_the_text_typed(client, world):
    _, voucher = await redeemed_voucher(world)
    member = await bearer(client, "member", world.members["chaoyang"][1])
    complaint_id = (
        await client.post(f"/api/v1/vouchers/{voucher.id}/complaints", headers=member, json=COMPLAINT)
    ).json()["id"]
    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    short = await _post(client, f"/provider/complaints/{complaint_id}/answer", {"text": "好"})
    assert short.status_code == 422
    form = short.text.split(f'action="/provider/complaints/{complaint_id}/answer"')[1].split("</form>")[0]
    assert "好</textarea>" in form and 'aria-invalid="true"' in form
    assert "请用 2 到 2000 字填写答复。" in form.split('data-testid="field-error"')[1]
    assert "请检查下方标出的栏目：您的答复。" in short.text.split('data-testid="form-error"')[1].split("</div>")[0]

    assert (await _post(client, f"/provider/complaints/{complaint_id}/answer", {"text": "已致歉"})).status_code in (
        302,
        303,
    )
    again = await _post(client, f"/provider/complaints/{complaint_id}/answer", {"text": "再次答复"})
    assert again.status_code == 409
    assert "这条投诉已不在待处理状态。" in again.text.split('data-testid="form-error"')[1].split("</div>")[0]
