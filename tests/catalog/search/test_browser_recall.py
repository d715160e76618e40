"""A member on a phone types what they would say (牙, 洗牙, youyong) and finds the dental
and swimming offers of the relevance catalogue; suggestions show while typing; a miss
offers a way forward."""

import re

import pytest
from playwright.async_api import Page, expect

from benchmarks import relevance
from catalog.search import index
from tests.browser.conftest import EXPECT_TIMEOUT_MS
from tests.catalog.search import builders

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]


@pytest.fixture
async def catalogue():
    await builders.fresh_index()
    await relevance.load(relevance.read_catalogue())
    await index.reindex()
    yield
    await builders.drop_index()


async def type_and_search(page: Page, words: str) -> None:
    box = page.locator("[data-testid=search-form] input[name=q]")
    await box.fill("")
    await box.press_sequentially(words, delay=60)
    await expect(page.locator("[data-testid=suggestion]").first).to_be_visible()
    async with page.expect_navigation():
        await box.press("Enter")
    await expect(page).to_have_url(re.compile(r"/search\?q="))


@pytest.fixture
def word_lists_patience():
    """The first searches load the word lists (jieba, pinyin): slow on a loaded machine.
    Only for this test: the next test of the worker gets the usual wait back."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


async def test_member_finds_dental_and_swimming_offers_the_way_they_say_it(
    phone_page: Page, catalogue, shots, word_lists_patience
):
    page = phone_page
    # The first searches load the word lists (jieba, pinyin): slow on a loaded machine.
    page.set_default_timeout(60_000)
    await page.goto("/search")
    box = page.locator("[data-testid=search-form] input[name=q]")

    await box.press_sequentially("牙", delay=60)
    suggestions = page.locator("[data-testid=suggestion]")
    await expect(suggestions.first).to_be_visible()
    await expect(page.locator("[data-testid=search-suggestions]")).to_contain_text("牙")
    await shots.take(page, "suggestions-ya")
    async with page.expect_navigation():
        await box.press("Enter")
    results = page.locator("[data-testid=search-results]")
    await expect(results).to_contain_text("口腔检查及洁牙预约")
    await expect(results).to_contain_text("超声波洗牙套餐")
    await shots.take(page, "results-ya")

    await type_and_search(page, "洗牙")
    await expect(results.locator("[data-testid=offer-card]").first).to_contain_text("洗牙")
    await expect(results).to_contain_text("口腔检查及洁牙预约")
    # One hit for the chain's ten shops, not ten.
    await expect(results.locator("[data-testid=offer-card]", has_text="口腔检查及洁牙预约")).to_have_count(1)
    await shots.take(page, "results-xiya")

    await type_and_search(page, "youyong")
    await expect(results.locator("[data-testid=offer-card]").first).to_contain_text("游泳")
    await expect(results).to_contain_text("游泳馆年卡")
    await shots.take(page, "results-youyong")

    # The recent searches of this device show under the empty box, and can be erased.
    await box.fill("")
    await box.focus()
    recent = page.locator("[data-testid=recent-searches]")
    await expect(recent).to_contain_text("youyong")
    await expect(recent).to_contain_text("洗牙")
    await shots.take(page, "recent")
    await page.click("[data-testid=clear-recent]")
    await expect(recent).to_be_hidden()

    # A miss is never a dead end.
    await page.goto("/search?q=" + "潜水艇")
    await expect(page.locator("[data-testid=search-empty]")).to_be_visible()
    await expect(page.locator("[data-testid=empty-categories]")).to_contain_text("医疗服务")
    await expect(page.locator("[data-testid=empty-latest] [data-testid=offer-card]").first).to_be_visible()
    await shots.take(page, "miss")

    # A misspelt word that sounds right is corrected, with a way back.
    await page.goto("/search?q=" + "游永")
    await expect(page.locator("[data-testid=search-corrected]")).to_contain_text("游泳")
    await expect(results).to_contain_text("游泳馆年卡")
    await shots.take(page, "corrected")


async def test_suggestions_come_a_moment_late_when_the_engine_was_busy(
    phone_page: Page, catalogue, client, monkeypatch
):
    """The first answer while typing found the engine too busy (the app's real fragment, made
    in-process with the engine timing out); the page asks again by itself and shows the
    suggestions the live server then has."""

    async def too_slow(*args, **kwargs):
        raise index.EngineBusy("timeout")

    monkeypatch.setattr(index, "search", too_slow)
    busy = (await client.get("/search/suggest", params={"q": "牙"})).text
    monkeypatch.undo()
    assert 'data-testid="suggestions-again"' in busy
    asked: list[str] = []

    async def answer_busy_once(route):
        url = route.request.url
        asked.append(url)
        if "q=%E7%89%99" in url and "asked=" not in url and sum("q=%E7%89%99" in seen for seen in asked) == 1:
            await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=busy)
        else:
            await route.continue_()

    page = phone_page
    await page.route(re.compile(r"/search/suggest\?"), answer_busy_once)
    await page.goto("/search")
    await page.locator("[data-testid=search-form] input[name=q]").press_sequentially("牙", delay=60)
    await expect(page.locator("[data-testid=suggestion]").first).to_be_visible()
    await expect(page.locator("[data-testid=suggestions-again]")).to_have_count(0)
    typed = [url for url in asked if "q=%E7%89%99" in url]
    assert len(typed) == 2 and "asked=2" in typed[1], asked  # typed once, asked again once by the page
