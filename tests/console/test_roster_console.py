"""Roster: a template to download, Chinese headers and group names accepted."""

import pytest

from marketplace.core.federation import services as federation
from marketplace.core.federation.roster import parsing, services as roster
from tests.console.helpers import HTML, web_login
from tests.federation.test_roster import ident, operator

pytestmark = [pytest.mark.integration]


async def test_the_template_downloads_with_chinese_headers(client, world):
    await web_login(client, "console", world.operators["beijing"])
    page = await client.get("/console/roster", headers=HTML)
    assert (
        'href="/console/roster/template.csv"' in page.text and "姓名、手机号、身份证号、工会代码、会员群体" in page.text
    )
    template = await client.get("/console/roster/template.csv")
    assert template.status_code == 200 and template.headers["content-type"].startswith("text/csv")
    assert template.content.decode("utf-8-sig").splitlines()[0] == "姓名,手机号,身份证号,工会代码,会员群体"


async def test_chinese_headers_and_group_names_import(world):
    content = (
        "身份证号,姓名,手机号码,工会代码,会员群体\r\n"
        f"{ident(301)},刘洋,13700000301,110105-001,女职工；新就业形态劳动者\r\n"
    ).encode()
    result = await roster.start_import(await operator("beijing"), "名册.csv", content)
    assert result.status == "done", result.errors
    items, total = await federation.search_members(await operator("beijing"), world.nodes["beijing"], q="刘洋")
    assert total == 1 and items[0]["groups"] == ["gig", "women"]
    # The template itself is a file the import accepts (once its example row is filled in).
    assert (await roster.start_import(await operator("beijing"), "t.csv", parsing.template_csv())).status == "done"
