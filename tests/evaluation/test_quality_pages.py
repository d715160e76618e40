"""The quality loop's pages: a member rates and complains from the voucher page, the
provider answers in its portal and appeals from its standing page, an operator decides
cases and closes complaints in the console."""

from datetime import UTC, datetime, timedelta

import pytest

from evaluation.enforcement import cases, policy
from marketplace.core.db import engine
from tests.evaluation.test_quality_loop import bad_scorecard, events, redeemed_voucher
from tests.points.test_ledger import operator
from tests.providers.test_pages import _login, _post

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def member_login(client, world):
    await client.get("/login")
    await _post(client, "/login", {"username": world.members["chaoyang"][1], "password": "Correct-Horse-42"})


async def test_a_member_rates_and_complains_from_the_voucher_page(client, world):
    _, voucher = await redeemed_voucher(world)
    await member_login(client, world)
    page = await client.get(f"/vouchers/{voucher.id}")
    assert 'data-testid="rating-form"' in page.text and 'data-testid="complaint-form"' in page.text
    refused = await _post(client, f"/vouchers/{voucher.id}/rating", {"overall": "9"})
    assert refused.status_code == 422 and "请选择 1 到 5 星" in refused.text
    at_field = refused.text.split('data-testid="rate-overall"')[1].split("</fieldset>")[0]
    assert 'aria-invalid="true"' in at_field and "请选择 1 到 5 星" in at_field.split('data-testid="field-error"')[1]
    saved = await _post(
        client,
        f"/vouchers/{voucher.id}/rating",
        {"overall": "4", "attitude": "2", "comment": "<script>alert(1)</script>前台态度一般"},
    )
    assert saved.status_code in (302, 303)
    page = await client.get(f"/vouchers/{voucher.id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;前台态度一般" in page.text and "<script>alert(1)" not in page.text
    assert 'value="4" checked' in page.text
    short = await _post(client, f"/vouchers/{voucher.id}/complaints", {"category": "overcharge", "text": "贵"})
    assert short.status_code == 422
    # The message sits under the text it is about, in Chinese, and the text typed is kept.
    at_field = short.text.split('id="complaint-text"')[1].split("<label")[0]
    assert "贵</textarea>" in at_field and 'data-testid="field-error"' in at_field and "5" in at_field
    filed = await _post(
        client,
        f"/vouchers/{voucher.id}/complaints",
        {"category": "overcharge", "text": "结账时多收了二十元", "idempotency_key": "c1"},
    )
    assert filed.status_code in (302, 303)
    await _post(
        client,
        f"/vouchers/{voucher.id}/complaints",
        {"category": "overcharge", "text": "结账时多收了二十元", "idempotency_key": "c1"},
    )  # a double tap
    page = await client.get(f"/vouchers/{voucher.id}")
    assert page.text.count('data-testid="my-complaint"') == 1 and "多收费" in page.text


async def test_the_provider_answers_and_appeals_and_the_operator_decides(client, world):
    _, voucher = await redeemed_voucher(world)
    await member_login(client, world)
    await _post(client, f"/vouchers/{voucher.id}/complaints", {"category": "poor_service", "text": "等了一个小时"})
    client.cookies.clear()
    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    inbox = await client.get("/provider/complaints")
    assert "王*芳" in inbox.text and "等了一个小时" in inbox.text and "王小芳" not in inbox.text
    complaint_id = int(inbox.text.split("/provider/complaints/")[1].split("/")[0])
    assert (await _post(client, f"/provider/complaints/{complaint_id}/answer", {"text": "x"})).status_code == 422
    answered = await _post(client, f"/provider/complaints/{complaint_id}/answer", {"text": "已致歉并赠送体验课"})
    assert answered.status_code in (302, 303)

    provider = world.providers["chaoyang"]["id"]
    await bad_scorecard(provider)
    now = datetime.now(UTC)
    for _ in range(3):
        await policy.evaluate_provider(provider, now)
    await policy.evaluate_provider(provider, now + timedelta(days=31))
    standing = await client.get("/provider/standing")
    assert "整改观察" in standing.text and "满意度 3.00 分（满分 5 分，共 60 条评价），低于下限 3.2" in standing.text
    assert 'data-testid="policy-table"' in standing.text

    client.cookies.clear()
    await _login(client, "console", world.operators["chaoyang"])
    queue = await client.get("/console/cases")
    assert 'data-testid="case-row"' in queue.text
    # A redemption made at night (Asia/Shanghai) also opens an integrity case: take the delisting one.
    case_id = (await engine().run_ddl("SELECT id FROM enforcement_case WHERE kind = 'delisting'"))[0]["id"]
    assert f"/console/cases/{case_id}" in queue.text
    case = await client.get(f"/console/cases/{case_id}")
    assert 'data-testid="case-figures"' in case.text and "等了一个小时" in case.text
    refused = await _post(client, f"/console/cases/{case_id}/decision", {"decision": "delist", "explanation": "短"})
    assert refused.status_code == 422
    at_field = refused.text.split('id="explanation"')[1].split("</form>")[0]
    assert "短</textarea>" in at_field and 'data-testid="field-error"' in at_field and "4000 字" in at_field
    asked = await _post(
        client,
        f"/console/cases/{case_id}/decision",
        {"decision": "delist", "explanation": "整改期满，满意度仍低于政策下限。"},
    )
    assert asked.status_code == 200 and 'data-testid="confirm"' in asked.text  # first what it does, then confirm
    assert (await cases.get_case(await operator(world, "chaoyang"), case_id)).status == "open"
    decided = await _post(
        client,
        f"/console/cases/{case_id}/decision",
        {"decision": "delist", "explanation": "整改期满，满意度仍低于政策下限。", "confirm": "1"},
    )
    assert decided.status_code in (302, 303)
    await events("provider.changed")
    mediation = await client.get("/console/complaints")
    assert "已致歉并赠送体验课" in mediation.text
    closed = await _post(client, f"/console/complaints/{complaint_id}/close", {"resolution": "会员接受致歉"})
    assert closed.status_code in (302, 303)

    client.cookies.clear()
    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    standing = await client.get("/provider/standing")
    assert "已下架" in standing.text and 'data-testid="appeal-form"' in standing.text
    short = await _post(client, f"/provider/cases/{case_id}/appeal", {"statement": "请复核"})
    assert short.status_code == 422  # at the statement of its case, in Chinese, with the text typed
    at_field = short.text.split(f'id="statement-{case_id}"')[1].split("</form>")[0]
    assert "请复核</textarea>" in at_field and "请用 10 到 4000 字填写申诉理由。" in at_field
    appealed = await _post(client, f"/provider/cases/{case_id}/appeal", {"statement": "已全面整改，恳请复核恢复上架。"})
    assert appealed.status_code in (302, 303)
    again = await client.get("/provider/standing")
    assert 'data-testid="appeal-form"' not in again.text and "已全面整改" in again.text


async def test_an_operator_publishes_a_policy_version_from_the_console(client, world):
    await _login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/policy")
    assert 'data-testid="policy-form"' in page.text and 'name="min_ratings" value="10"' in page.text
    from tests.console.test_policy_console import form_values

    values = form_values(page.text)
    broken = await _post(client, "/console/policy", {**values, "min_ratings": "many"})
    assert broken.status_code == 422 and 'value="many"' in broken.text
    published = await _post(client, "/console/policy", {**values, "min_ratings": "25", "confirm": "1"})
    assert published.status_code in (302, 303)
    assert (await policy.policy_of_node(world.nodes["chaoyang"]))["rules"]["min_ratings"] == 25
    assert (await policy.policy_of_node(world.nodes["haidian"]))["version"] == 0
