"""Cases in the console: evidence in words (never an empty first bullet or a raw code),
decisions with a reason and a confirmation, cases opened by hand."""

import json
import re

import pytest

from evaluation.tables import EnforcementCase
from marketplace.core.db import engine
from tests.console.helpers import HTML, post, web_login
from tests.factories import now
from tests.test_errors import bearer

pytestmark = [pytest.mark.integration]
RAW = ("delist", "upheld", "answered", "burst_one_network", "night_redemption", "staff_burst", "integrity")


def _visible(html: str) -> str:
    """The page's words without its tags and attributes."""
    body = html.split("<main", 1)[1]
    return re.sub(r"<[^>]+>", " ", body)


async def test_an_integrity_case_says_its_evidence_in_words(client, world):
    provider = world.providers["chaoyang"]["id"]
    case_id = (
        await EnforcementCase.insert(
            EnforcementCase(
                provider=provider,
                kind="integrity",
                status="open",
                figures=json.dumps({}),
                opened_at=now(),
                reasons=json.dumps(
                    [
                        {"code": "night_redemption", "at": "2026-11-30T18:30:00+00:00"},
                        {"code": "staff_burst", "staff_id": 999, "count": 20, "minutes": 10},
                    ]
                ),
            )
        ).returning(EnforcementCase.id)
    )[0]["id"]
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
    short = await post(
        client, "/console/cases/new", {"provider_id": str(world.providers["chaoyang"]["id"]), "reason": "太短"}
    )
    assert short.status_code == 422 and 'data-testid="field-error"' in short.text
    outside = await post(
        client,
        "/console/cases/new",
        {"provider_id": str(world.providers["haidian"]["id"]), "reason": "多名会员反映门店拒绝使用优惠券。"},
    )
    assert outside.status_code == 404
    opened = await post(
        client,
        "/console/cases/new",
        {"provider_id": str(world.providers["chaoyang"]["id"]), "reason": "多名会员反映门店拒绝使用优惠券。"},
    )
    assert opened.status_code in (302, 303)
    case_url = opened.headers["location"]
    page = await client.get(case_url, headers=HTML)
    assert "手动立案" in page.text and "多名会员反映门店拒绝使用优惠券" in page.text
    again = await post(
        client,
        "/console/cases/new",
        {"provider_id": str(world.providers["chaoyang"]["id"]), "reason": "多名会员反映门店拒绝使用优惠券。"},
    )
    assert again.status_code == 409
    asked = await post(client, case_url + "/decision", {"decision": "keep", "explanation": "已约谈商家，限期整改。"})
    assert asked.status_code == 200 and 'data-testid="confirm"' in asked.text and "已约谈商家" in asked.text
    assert 'data-testid="decision-form"' not in asked.text
    done = await post(
        client, case_url + "/decision", {"decision": "keep", "explanation": "已约谈商家，限期整改。", "confirm": "1"}
    )
    assert done.status_code in (302, 303)
    after = await client.get(case_url, headers=HTML)
    assert "保留上架" in after.text and "keep" not in _visible(after.text)


async def _held_ratings(world, n: int) -> None:
    """n held ratings of Chaoyang's gym, a minute apart, each with a redemption of its own."""
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "WITH made AS (INSERT INTO redemption (voucher, provider, offer, category, member, redeemed_at, survey_due_at) "
            "SELECT 900000 + g, $1, o.id, o.category, $3, now() - g * interval '1 minute', now() "
            "FROM generate_series(1, $4) g, offer o WHERE o.id = $2 RETURNING id, redeemed_at) "
            "INSERT INTO rating (redemption, provider, member, overall, comment, created_at, updated_at, held, hold_reason) "
            "SELECT id, $1, $3, 1, '很差', redeemed_at, redeemed_at, true, 'burst_one_network' FROM made",
            world.providers["chaoyang"]["id"],
            world.offers["public"],
            world.members["chaoyang"][0],
            n,
        )


@pytest.mark.usefixtures("clean_state")
async def test_held_ratings_are_paged_on_their_own_with_their_count_in_the_heading(client, world):
    await _held_ratings(world, 53)
    await web_login(client, "console", world.operators["chaoyang"])
    first = await client.get("/console/cases?status=open", headers=HTML)
    assert first.text.count('data-testid="held-rating"') == 50
    assert re.search(r'data-testid="held-count">\s*53\s*<', first.text)
    # The held pager turns its own parameter and keeps the cases' filter (and their page).
    assert 'href="/console/cases?status=open&amp;held_page=2#held"' in first.text
    second = await client.get("/console/cases?status=open&page=1&held_page=2", headers=HTML)
    assert second.text.count('data-testid="held-rating"') == 3
    assert 'href="/console/cases?status=open&amp;page=1#held"' in second.text  # back to the first held page
    # A verdict on the second page returns to it.
    rating_id = int(re.search(r'action="/console/held-ratings/(\d+)"', second.text).group(1))
    back = re.search(r'name="back" value="([^"]+held[^"]*)"', second.text).group(1).replace("&amp;", "&")
    assert back == "/console/cases?status=open&page=1&held_page=2#held"
    decided = await post(client, f"/console/held-ratings/{rating_id}", {"keep": "no", "back": back})
    assert decided.headers["location"] == back
    elsewhere = await post(
        client, f"/console/held-ratings/{rating_id + 1}", {"keep": "no", "back": "https://x.example/"}
    )
    assert elsewhere.headers["location"] == "/console/cases#held"
    # Past the end (its last ratings were just decided) shows the last page, not an empty one.
    past = await client.get("/console/cases?held_page=9", headers=HTML)
    assert past.text.count('data-testid="held-rating"') == 1
    assert re.search(r'data-testid="held-count">\s*51\s*<', past.text)


@pytest.mark.usefixtures("clean_state")
async def test_an_empty_case_history_is_a_sentence_not_a_numbered_item(client, world):
    provider = world.providers["chaoyang"]["id"]
    case_id = (
        await EnforcementCase.insert(
            EnforcementCase(
                provider=provider,
                kind="delisting",
                status="open",
                figures=json.dumps({}),
                opened_at=now(),
                reasons=json.dumps([{"code": "manual", "text": "多名会员反映门店拒绝使用优惠券。"}]),
            )
        ).returning(EnforcementCase.id)
    )[0]["id"]
    await web_login(client, "console", world.operators["chaoyang"])
    page = await client.get(f"/console/cases/{case_id}", headers=HTML)
    assert page.status_code == 200
    assert 'data-testid="case-history-empty"' in page.text and "该商户的考核状态尚无变化" in page.text
    assert 'data-testid="low-ratings-empty"' in page.text and 'data-testid="case-complaints-empty"' in page.text
    assert '<li class="muted">' not in page.text and "无。" not in _visible(page.text)


@pytest.mark.usefixtures("clean_state")
async def test_held_ratings_are_searched_filtered_and_paged_on_the_page_and_in_the_api(client, world):
    await _held_ratings(world, 113)
    async with engine().transaction() as transaction:  # three of them came from new accounts
        await transaction.connection.execute(
            "UPDATE rating SET hold_reason = 'burst_new_accounts' WHERE id IN "
            "(SELECT id FROM rating WHERE held ORDER BY id LIMIT 3)"
        )
    await web_login(client, "console", world.operators["chaoyang"])
    by_reason = await client.get("/console/cases?status=open&held_reason=burst_new_accounts", headers=HTML)
    assert by_reason.text.count('data-testid="held-rating"') == 3
    assert re.search(r'data-testid="held-count">\s*3\s*<', by_reason.text)
    assert '<input type="hidden" name="status" value="open">' in by_reason.text  # the cases' filter kept
    nobody = await client.get("/console/cases?held_q=没有这家", headers=HTML)
    assert 'data-testid="held-rating"' not in nobody.text and "/console/cases?#held" in nobody.text  # 清除
    by_name = await client.get("/console/cases?held_q=力美健&held_page=3", headers=HTML)
    assert by_name.text.count('data-testid="held-rating"') == 13
    assert "held_q=" in re.search(r'name="back" value="([^"]+held[^"]*)"', by_name.text).group(1)

    # The API pages too, past the old cap of 100, with the same search and filter.
    headers = await bearer(client, "operator", world.operators["chaoyang"])
    first = (await client.get("/api/v1/console/held-ratings?page_size=100", headers=headers)).json()
    assert (first["total"], len(first["items"]), first["page"]) == (113, 100, 1)
    second = (await client.get("/api/v1/console/held-ratings?page_size=100&page=2", headers=headers)).json()
    assert len(second["items"]) == 13 and not {r["id"] for r in first["items"]} & {r["id"] for r in second["items"]}
    new_accounts = await client.get("/api/v1/console/held-ratings?hold_reason=burst_new_accounts", headers=headers)
    assert new_accounts.json()["total"] == 3
    assert (await client.get("/api/v1/console/held-ratings?hold_reason=other", headers=headers)).status_code == 400
    hebei = await bearer(client, "operator", world.operators["hebei"])
    assert (await client.get("/api/v1/console/held-ratings", headers=hebei)).json()["total"] == 0
