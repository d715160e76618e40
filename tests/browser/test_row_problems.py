"""Row problems of uploaded files, said the way every domain error is (msgid + params, translated
on the page, issue 16): a roster with bad rows (1440x900) and an evaluator's batch with bad
rows (1440x900), in Chinese and, after switching, in English; no raw code or English in the
Chinese table. Screenshots in tests/artifacts/screenshots/."""

import re
from contextlib import asynccontextmanager
from datetime import date, timedelta

import pytest
from playwright.async_api import expect

from tests.browser.conftest import _context, _watch
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD
from tests.federation.test_roster import ident

pytestmark = pytest.mark.browser
CONSOLE = {"viewport": {"width": 1440, "height": 900}}
ASCII_WORD = re.compile(r"[A-Za-z]{4,}")


async def _problems(page) -> list[str]:
    return await page.locator("[data-testid=row-error] td:last-child").all_inner_texts()


async def _columns(page) -> list[str]:
    return await page.locator("[data-testid=row-error] td:nth-child(2)").all_inner_texts()


def _without_named_codes(text: str) -> str:
    """The text without the codes said beside their names: 评价方式（method）, mystery_shopper（神秘顾客）."""
    return re.sub(r"（[a-z_]+）|[a-z_]+（", "", text)


async def _switch_to_english(context, live_server) -> None:
    await context.add_cookies([{"name": "lang", "value": "en", "url": live_server}])


@asynccontextmanager
async def _signed_in(browser, live_server, area: str, username: str | None, password: str):
    """A 1440x900 page signed in to `area`; no script error or missing asset on any page."""
    context = await _context(browser, live_server, CONSOLE)
    page = await context.new_page()
    _watch(page)
    try:
        await page.goto(f"/{area}/login")
        await sign_in(page, username, password)
        yield context, page
    finally:
        await context.close()
    assert not page.problems, page.problems


async def _upload(page, name: str, content: bytes, submit: str) -> list[str]:
    """Send the file through the page's form; the problems listed, after a screenshot."""
    await page.set_input_files("#file", files=[{"name": name, "mimeType": "text/csv", "buffer": content}])
    async with page.expect_navigation():
        await page.click(f"[data-testid={submit}]")
    await expect(page.locator("[data-testid=row-errors]")).to_be_visible()
    return await _problems(page)


async def test_a_roster_with_bad_rows_lists_each_problem_in_the_viewers_language(browser, live_server, world, shots):
    content = (
        "姓名,手机号,身份证号,工会代码,会员群体\r\n"
        f"张伟,13700000401,{ident(401)},110105-001,女职工\r\n"
        f"李娜,1370000,{ident(402)},110105-001,\r\n"  # a short phone
        f"王芳,13700000403,{ident(401)},110105-001,\r\n"  # the ID number of row 2
        f"赵磊,13700000404,{ident(404)},999999-001,\r\n"  # no such union
    ).encode()
    async with _signed_in(browser, live_server, "console", world.operators["beijing"], PASSWORD) as (context, page):
        for language in ("zh", "en"):
            if language == "en":
                await _switch_to_english(context, live_server)
            await page.goto("/console/roster")
            problems = await _upload(page, "名册.csv", content, "roster-submit")
            await shots.take(page, f"roster-refused-{language}")
            assert len(problems) == 3, problems
            if language == "zh":
                assert "与第 2 行的身份证号重复。" in problems, problems
                assert not [text for text in problems if ASCII_WORD.search(text)], problems
                # The column in words beside its code.
                assert "身份证号（id_number）" in await _columns(page), await _columns(page)
            else:
                assert "Repeats the ID number of row 2." in problems, problems
                assert "There is no union with the code 999999-001." in problems, problems


async def test_an_evaluator_batch_with_bad_rows_lists_each_problem_in_the_viewers_language(
    browser, live_server, world, shots
):
    provider = world.providers["chaoyang"]["id"]
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    content = (
        "provider_id,visit_date,method,score,honoured,service,sample_size,note\r\n"
        f"{provider},2026-11-01,mystery_shopper,80,90,70,1,好\r\n"
        f"{provider},2026-11-01,mystery_shopper,80,90,70,1,重复\r\n"  # repeats row 2
        f"{provider},{tomorrow},phone_survey,180,90,70,1,\r\n"  # future day, score over 100
        f"999999,2026-11-02,carrier_pigeon,80,90,70,1,\r\n"  # unknown provider and method
    ).encode()
    async with _signed_in(browser, live_server, "evaluator", None, world.evaluator_key) as (context, page):
        for language in ("zh", "en"):
            if language == "en":
                await _switch_to_english(context, live_server)
            await page.goto("/evaluator/batches")
            await page.fill("#batch_id", f"bad-{language}")
            problems = await _upload(page, "结果.csv", content, "upload-submit")
            await shots.take(page, f"batch-refused-{language}")
            codes = await page.locator("[data-testid=row-error]").evaluate_all(
                "rows => rows.map(row => row.dataset.code)"
            )
            assert {"duplicate_row", "future_date", "out_of_range", "unknown_method"} <= set(codes), codes
            if language == "en":
                assert "Repeats row 2 (same provider, visit date and method)." in problems, problems
                assert (
                    "method must be one of mystery_shopper, phone_survey, online_survey, site_inspection." in problems
                )
            else:
                assert "与第 2 行重复（商户、走访日期和评价方式相同）。" in problems, problems
                assert "综合得分（score）须在 0 到 100 之间。" in problems, problems
                assert any(
                    text.startswith("评价方式（method）须为以下之一：mystery_shopper（神秘顾客）") for text in problems
                )
                # Chinese sentences: a code appears only beside its name in words.
                assert not [text for text in problems if ASCII_WORD.search(_without_named_codes(text))], problems
                assert {"评价方式（method）", "走访日期（visit_date）", "综合得分（score）"} <= set(
                    await _columns(page)
                )
