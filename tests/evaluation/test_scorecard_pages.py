"""Scorecard pages: the provider sees its own figures and trend data; operators see the
providers of their subtree ranked, filter them, page and export them, and never a
provider of a sibling node."""

import csv
import io
import json
import re
from datetime import date

import pytest

from evaluation.scorecards import services as scorecards
from tests.evaluation.conftest import NOW, execute
from tests.providers.test_pages import HTML, _login

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


@pytest.fixture
async def computed(world, signals) -> dict:
    """Chaoyang's gym: 3 ratings (5, 5, 1) this week and a 4 in October, one complaint;
    Haidian's clinic (in 海淀区): 8 ratings of 5. Figures of October and of now."""
    a, b = world.providers["chaoyang"]["id"], world.providers["haidian"]["id"]
    await execute("UPDATE location SET district = '海淀区' WHERE provider = $1", b)
    for overall in (5, 5, 1):
        await signals.rating(a, overall, days_ago=3, honoured=True)
    await signals.complaint(a, days_ago=4, answer_after_hours=6)
    for _ in range(8):
        await signals.rating(b, 5, days_ago=2)
    await signals.rating(a, 4, days_ago=45)
    await scorecards.snapshot_month(date(2026, 10, 1))
    await scorecards.recompute_all(NOW)
    return {"a": a, "b": b}


def _chart(html: str, name: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{name}-data">(.*?)</script>', html, re.S)
    assert match, name
    return json.loads(match.group(1))


async def test_the_provider_sees_its_figures_with_sample_sizes_and_trends(client, world, computed):
    await _login(client, "provider", world.providers["chaoyang"]["staff"])
    assert (await client.get("/provider/scorecard", headers=HTML)).status_code == 403  # the owner's, not the desk's
    for role in ("owner",):
        await _login(client, "provider", world.providers["chaoyang"][role])
        page = await client.get("/provider/scorecard", headers=HTML)
        assert page.status_code == 200, role
        assert "服务评分" in page.text and 'data-testid="scorecard-figures"' in page.text
        assert "4 条评价" in page.text  # the sample size beside the fair score
        assert "1 / 3" not in page.text and "共 2 家中第 2 名" in page.text  # rank 2 of 2 in fitness
        assert 'data-testid="standing"' in page.text
        satisfaction = _chart(page.text, "chart-satisfaction")
        assert satisfaction["labels"] == ["2026-10", "近 90 天"]
        assert satisfaction["series"][1]["values"] == [4.0, 3.75]  # plain means: October, the 90 days
        assert satisfaction["counts"] == [1, 4]
        complaints = _chart(page.text, "chart-complaints")
        assert complaints["series"][0]["values"] == [0.0, 25.0]
        assert "/static/charts.js" in page.text
    client.cookies.set("lang", "en")
    english = await client.get("/provider/scorecard", headers=HTML)
    assert "Scorecard" in english.text and "4 ratings" in english.text


async def test_a_provider_without_a_scorecard_yet(client, world):
    await _login(client, "provider", world.providers["haidian"]["owner"])
    page = await client.get("/provider/scorecard", headers=HTML)
    assert page.status_code == 200 and 'data-testid="no-scorecard"' in page.text


async def test_operators_see_their_subtree_ranked(client, world, computed):
    await _login(client, "console", world.operators["beijing"])
    page = await client.get("/console/scorecards", headers=HTML)
    assert page.status_code == 200
    rows = re.findall(r'data-testid="scorecard-row" data-provider="(\d+)"', page.text)
    assert rows == [str(computed["b"]), str(computed["a"])]  # best satisfaction first
    trend = _chart(page.text, "chart-trend")
    assert trend["labels"][-1] == "近 90 天" and trend["counts"][-1] == 12
    distribution = _chart(page.text, "chart-distribution")
    assert distribution["labels"] == ["健身"] and sum(s["values"][0] for s in distribution["series"]) == 2
    assert _chart(page.text, "chart-category-complaints")["series"][0]["values"] == [pytest.approx(100 / 12, abs=0.05)]
    only_haidian = await client.get("/console/scorecards?district=海淀区", headers=HTML)
    assert re.findall(r'data-provider="(\d+)"', only_haidian.text) == [str(computed["b"])]
    by_complaints = await client.get("/console/scorecards?sort=complaints", headers=HTML)
    assert re.findall(r'data-provider="(\d+)"', by_complaints.text)[0] == str(computed["a"])

    # A sibling district's operator sees only its own provider, and not the other's card.
    await _login(client, "console", world.operators["chaoyang"])
    mine = await client.get("/console/scorecards", headers=HTML)
    assert re.findall(r'data-provider="(\d+)"', mine.text) == [str(computed["a"])]
    assert "中关村体检中心" not in mine.text
    assert (await client.get(f"/console/scorecards/{computed['b']}", headers=HTML)).status_code == 404
    detail = await client.get(f"/console/scorecards/{computed['a']}", headers=HTML)
    assert detail.status_code == 200 and 'data-testid="chart-satisfaction"' in detail.text
    csv_text = (await client.get("/console/scorecards.csv")).content.decode("utf-8-sig")
    assert "中关村体检中心" not in csv_text

    await _login(client, "console", world.operators["hebei"])
    assert 'data-testid="no-scorecards"' in (await client.get("/console/scorecards", headers=HTML)).text


async def test_the_csv_export_and_paging(client, world, computed):
    await _login(client, "console", world.operators["national"])
    response = await client.get("/console/scorecards.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["分类内排名", "商户", "分类", "区域"]
    assert [row[1] for row in rows[1:]] == ["中关村体检中心", "力美健健身(望京店)"]
    assert rows[2][5] == "4" and rows[2][4] == f"{(await scorecards.scorecard_of(computed['a'])).satisfaction:.3f}"

    from evaluation.scorecards import pages as scorecard_pages

    original = scorecard_pages.PAGE_SIZE
    scorecard_pages.PAGE_SIZE = 1
    try:
        first = await client.get("/console/scorecards", headers=HTML)
        assert first.text.count('data-testid="scorecard-row"') == 1 and 'data-testid="pager-next"' in first.text
        second = await client.get("/console/scorecards?page=2", headers=HTML)
        assert re.findall(r'data-provider="(\d+)"', second.text) == [str(computed["a"])]
        assert 'data-testid="pager-next"' not in second.text
    finally:
        scorecard_pages.PAGE_SIZE = original


async def test_the_pages_need_the_right_account(client, world, computed):
    """A provider's session is no operator's: the console sends it to sign in, and back."""
    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    console = await client.get("/console/scorecards", headers=HTML)
    assert console.status_code == 302 and "/console/login" in console.headers["location"]
    assert (await client.get("/console/scorecards.csv")).status_code in (302, 401, 403)
    client.cookies.clear()
    await _login(client, "console", world.operators["beijing"])
    portal = await client.get("/provider/scorecard", headers=HTML)
    assert portal.status_code in (302, 401, 403) and 'data-testid="scorecard-figures"' not in portal.text


async def test_the_state_filter_reads_the_policys_standings(client, world, computed):
    if not await execute("SELECT to_regclass('provider_standing') IS NOT NULL"):
        pytest.skip("the enforcement policy's tables are not migrated here")
    await execute(
        "INSERT INTO provider_standing (provider, state, since) VALUES ($1, 'watch', now()) "
        "ON CONFLICT (provider) DO UPDATE SET state = 'watch'",
        computed["a"],
    )
    await _login(client, "console", world.operators["beijing"])
    watched = await client.get("/console/scorecards?state=watch", headers=HTML)
    assert re.findall(r'data-provider="(\d+)"', watched.text) == [str(computed["a"])]


async def test_the_ranking_is_searched_by_provider_name_and_keeps_its_filters_in_the_pages(client, world, computed):
    await _login(client, "console", world.operators["national"])
    found = await client.get("/console/scorecards?q=中关村", headers=HTML)
    assert re.findall(r'data-provider="(\d+)"', found.text) == [str(world.providers["haidian"]["id"])]
    assert 'value="中关村"' in found.text and 'data-testid="pager-summary"' in found.text
    none = await client.get("/console/scorecards?q=不存在的商户", headers=HTML)
    assert 'data-testid="no-scorecards"' in none.text
    csv_text = (await client.get("/console/scorecards.csv?q=中关村")).content.decode("utf-8-sig")
    assert "中关村体检中心" in csv_text and "力美健" not in csv_text

    from evaluation.scorecards import pages as scorecard_pages

    original = scorecard_pages.PAGE_SIZE
    scorecard_pages.PAGE_SIZE = 1
    try:
        first = await client.get("/console/scorecards?sort=volume", headers=HTML)
        assert "sort=volume&amp;page=2" in first.text  # the next page keeps the order chosen
    finally:
        scorecard_pages.PAGE_SIZE = original
