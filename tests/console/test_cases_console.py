"""Cases in the console: evidence in words (never an empty first bullet or a raw code),
decisions with a reason and a confirmation, cases opened by hand."""

import json

import pytest

from evaluation.tables import EnforcementCase
from tests.console.helpers import HTML, post, web_login
from tests.factories import now

pytestmark = [pytest.mark.integration]
RAW = ("delist", "upheld", "answered", "burst_one_network", "night_redemption", "staff_burst", "integrity")


def _visible(html: str) -> str:
    """The page's words without its tags and attributes."""
    import re
    body = html.split("<main", 1)[1]
    return re.sub(r"<[^>]+>", " ", body)


async def test_an_integrity_case_says_its_evidence_in_words(client, world):
    provider = world.providers["chaoyang"]["id"]
    case_id = (await EnforcementCase.insert(EnforcementCase(
        provider=provider, kind="integrity", status="open", figures=json.dumps({}), opened_at=now(),
        reasons=json.dumps([{"code": "night_redemption", "at": "2026-11-30T18:30:00+00:00"},
                            {"code": "staff_burst", "staff_id": 999, "count": 20, "minutes": 10}]),
    )).returning(EnforcementCase.id))[0]["id"]
    await web_login(client, "console", world.operators["chaoyang"])
    page = await client.get(f"/console/cases/{case_id}", headers=HTML)
    assert page.status_code == 200
    first = page.text.split('data-testid="reasons">')[1].split("</li>")[0].replace("<li>", "").strip()
    assert first and "夜间" in first and "2026-12-01 02:30" in first  # Shanghai time
    assert "10 分钟内核销了 20 张券" in page.text
    words = _visible(page.text)
    for code in RAW:
        assert code not in words, code
    queue = await client.get("/console/cases?status=open", headers=HTML)
    assert 'data-testid="case-row"' in queue.text


async def test_a_case_opened_by_hand_is_decided_after_a_confirmation(client, world):
    await web_login(client, "console", world.operators["chaoyang"])
    found = await client.get("/console/cases?provider_q=力美健", headers=HTML)
    assert 'data-testid="provider-results"' in found.text
    assert "中关村体检中心" not in (await client.get("/console/cases?provider_q=体检", headers=HTML)).text
    short = await post(client, "/console/cases/new", {"provider_id": str(world.providers["chaoyang"]["id"]),
                                                      "reason": "太短"})
    assert short.status_code == 422 and 'data-testid="field-error"' in short.text
    outside = await post(client, "/console/cases/new", {"provider_id": str(world.providers["haidian"]["id"]),
                                                        "reason": "多名会员反映门店拒绝使用优惠券。"})
    assert outside.status_code == 404
    opened = await post(client, "/console/cases/new", {"provider_id": str(world.providers["chaoyang"]["id"]),
                                                       "reason": "多名会员反映门店拒绝使用优惠券。"})
    assert opened.status_code in (302, 303)
    case_url = opened.headers["location"]
    page = await client.get(case_url, headers=HTML)
    assert "手动立案" in page.text and "多名会员反映门店拒绝使用优惠券" in page.text
    again = await post(client, "/console/cases/new", {"provider_id": str(world.providers["chaoyang"]["id"]),
                                                      "reason": "多名会员反映门店拒绝使用优惠券。"})
    assert again.status_code == 409
    asked = await post(client, case_url + "/decision", {"decision": "keep", "explanation": "已约谈商家，限期整改。"})
    assert asked.status_code == 200 and 'data-testid="confirm"' in asked.text and "已约谈商家" in asked.text
    assert 'data-testid="decision-form"' not in asked.text
    done = await post(client, case_url + "/decision",
                      {"decision": "keep", "explanation": "已约谈商家，限期整改。", "confirm": "1"})
    assert done.status_code in (302, 303)
    after = await client.get(case_url, headers=HTML)
    assert "保留上架" in after.text and "keep" not in _visible(after.text)
