"""Every member page on a phone (390 × 844, zh-CN), checked by axe-core in the normal mode
and in 长辈模式 (large text), and weighed: what the browser transfers for each page.

- axe-core (pinned and integrity-checked in marketplace/runtime/npm_assets.py, served
  from /static/vendor/ but named by no page) is injected into each page after it loaded;
  a serious or critical violation fails the test, with the rule, the nodes and the page.
- 长辈模式 after MIIT's 适老化 rules: body text ≥ 18 px with line spacing ≥ 1.3, every
  tap target ≥ 48 px high, no text under 16 px, nothing wider than the screen, no
  promotional block (`.promo`) shown, errors said in words.
- Weight: HTML + CSS + JS + images actually transferred (compressed, headers included),
  measured with the Chrome DevTools Protocol with the cache disabled, ≤ 100 KB per page.
  The table is printed (`-s`); the figures are in docs/benchmarks.md.

Screenshots: tests/artifacts/screenshots/test_member_pages_pass_axe_<mode>-NN-<page>.png.
"""

import asyncio
from dataclasses import dataclass

import pytest
from playwright.async_api import Page, expect

from catalog.tables import Offer
from marketplace.core.federation import services as federation
from marketplace.core.identity import services as identity
from marketplace.payments import services as payments
from marketplace.runtime import npm_assets
from marketplace.seed import pictures as seed_pictures
from marketplace.vouchers import services as vouchers
from marketplace.vouchers.tables import Voucher
from providers.tables import Location, ProviderUser
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD
from tests.journeys import builders
from tests.points.test_ledger import give

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]

AXE = "vendor/axe-core/axe.min.js"
BUDGET_BYTES = 100 * 1024
# Member pages that other work may add: checked when the site has them.
OPTIONAL_PAGES = [
    ("my-data", "/me/data"),
    ("inbox", "/inbox"),
    ("messages", "/messages"),
    ("favourites", "/me/favourites"),
]


@dataclass
class MemberPage:
    name: str
    path: str
    signed_in: bool = True
    click: str | None = None  # opens a part of the page first (a confirmation sheet)


async def member_pages(world) -> list[MemberPage]:
    """One of each member page, with the data that makes it show everything it can."""
    member_id = world.members["chaoyang"][0]
    principal = await federation.member_principal(member_id)
    await give(member_id, 2000, "campaign")
    free = await builders.offer(world, "voucher", "游泳体验券", list_fen=8800, limit=3)
    paid = await builders.offer(world, "paid", "私教体验课 3 节", list_fen=29900, member_fen=23890, subsidy_fen=3700)
    points_offer = await builders.offer(world, "points", "瑜伽单次课", list_fen=5900, points=540)
    booking = await builders.offer(world, "slot", "职工之家理疗预约", list_fen=12000)
    await builders.slot(booking, builders.last_day(3), "19:00", "20:00")
    await builders.slot(booking, builders.last_day(4), "09:30", "10:30")

    # Cover pictures as an owner's upload leaves them (1200 px and a 400 px thumbnail).
    for offer_id, kind, title in (
        (free, "voucher", "游泳体验券"),
        (paid, "paid", "私教体验课 3 节"),
        (points_offer, "points", "瑜伽单次课"),
        (booking, "slot", "职工之家理疗预约"),
    ):
        cover = await asyncio.to_thread(seed_pictures.stored_cover, "fitness", kind, title)
        await Offer.update({Offer.cover_image: cover}).where(Offer.id == offer_id)

    to_use = await vouchers.claim(principal, free)
    used = await vouchers.claim(principal, free)
    expired = await vouchers.claim(principal, free)
    staff = (
        await ProviderUser.select(ProviderUser.id)
        .where(ProviderUser.username == world.providers["chaoyang"]["staff"])
        .first()
    )
    location = await Location.select(Location.id).first()
    code = (await Voucher.select(Voucher.code).where(Voucher.id == used.id).first())["code"]
    await vouchers.redeem(await identity.load_principal("provider", staff["id"]), code, location["id"])
    await Voucher.update({Voucher.status: "expired"}).where(Voucher.id == expired.id)
    payment = await payments.start(principal, paid)

    pages = [
        MemberPage("sign-in", "/login", signed_in=False),
        MemberPage("home", "/"),
        MemberPage("search", "/search?q=%E4%BD%93%E9%AA%8C"),  # 体验
        MemberPage("offer-free", f"/offers/{free}"),
        MemberPage("offer-paid", f"/offers/{paid}"),
        MemberPage("offer-points", f"/offers/{points_offer}"),
        MemberPage("offer-points-confirm", f"/offers/{points_offer}", click="[data-testid=claim]"),
        MemberPage("offer-booking", f"/offers/{booking}"),
        MemberPage("provider", f"/providers/{world.providers['chaoyang']['id']}"),
        MemberPage("pay", f"/payments/{payment.id}"),
        MemberPage("orders-to-use", "/vouchers"),
        MemberPage("orders-used", "/vouchers?tab=used"),
        MemberPage("orders-to-rate", "/vouchers?tab=to_rate"),
        MemberPage("orders-expired", "/vouchers?tab=expired"),
        MemberPage("orders-refunds", "/vouchers?tab=refunds"),
        MemberPage("voucher-qr", f"/vouchers/{to_use.id}"),
        MemberPage("voucher-cancel", f"/vouchers/{to_use.id}#cancel-confirm"),
        MemberPage("rating-complaint", f"/vouchers/{used.id}"),
        MemberPage("points", "/points"),
        MemberPage("me", "/me"),
        MemberPage("me-erase-unconfirmed", "/me?deletion=unconfirmed#my-data"),
    ]
    return pages


async def add_optional_pages(page: Page, pages: list[MemberPage]) -> None:
    for name, path in OPTIONAL_PAGES:
        response = await page.request.get(path, max_redirects=0)
        if response.status == 200 and "text/html" in response.headers.get("content-type", ""):
            pages.append(MemberPage(name, path))


async def open_everything(page: Page) -> None:
    """Folded parts (<details>: complaint form, rating details) are checked open."""
    await page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


async def axe_violations(page: Page) -> list[dict]:
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.add_script_tag(url=f"/static/{AXE}")
    return await page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"], runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(" ") + " :: " + (n.failureSummary || "").split("\\n")[1])}));
    }""")


ERRORS_IN_WORDS = """() => [...document.querySelectorAll("[aria-invalid=true]")].filter(field => {
    // A field marked invalid is explained in words: its described-by text, or an alert on the page.
    const ids = (field.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean);
    const said = ids.map(id => document.getElementById(id)).filter(el => el && el.innerText.trim());
    const alerts = [...document.querySelectorAll("[role=alert]")].filter(el => el.innerText.trim());
    return !said.length && !alerts.length;
}).map(field => field.name || field.id)"""


LARGE_TEXT_CHECKS = """() => {
    const body = getComputedStyle(document.body);
    const fontSize = parseFloat(body.fontSize);
    const visible = el => {
        const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
        return r.width > 0 && r.height > 0 && cs.visibility !== "hidden" && !el.closest(".sr-only, .skip-link");
    };
    const describe = el => el.tagName.toLowerCase() + (el.dataset.testid ? "[" + el.dataset.testid + "]" : "")
        + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "")
        + " '" + (el.innerText || el.value || "").trim().slice(0, 20) + "'";
    const small = [];
    for (const el of document.querySelectorAll("a[href], button, input, select, textarea, summary, label")) {
        if (!visible(el) || el.type === "hidden") continue;
        if (el.type === "radio" || el.type === "checkbox") continue;  // their label is the target
        if (el.tagName === "LABEL" && !el.querySelector("input[type=radio], input[type=checkbox]")
            && !(el.htmlFor && document.getElementById(el.htmlFor)?.matches("input[type=radio], input[type=checkbox]"))) continue;
        if (el.tagName === "A" && getComputedStyle(el).display === "inline") continue;  // a link in a sentence
        const r = el.getBoundingClientRect();
        if (r.height < 47.5) small.push(describe(el) + " " + Math.round(r.height) + "px");
    }
    const tiny = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode, el = node.parentElement;
        if (!node.textContent.trim() || !el || !visible(el) || el.closest("svg, script, style, .voucher-qr")) continue;
        const size = parseFloat(getComputedStyle(el).fontSize);
        if (size < 15.95) tiny.push(describe(el) + " " + size + "px");
    }
    const promos = [...document.querySelectorAll(".promo")].filter(visible).map(describe);
    return {fontSize, lineHeight: parseFloat(body.lineHeight) / fontSize,
            overflow: document.documentElement.scrollWidth - window.innerWidth,
            small: [...new Set(small)], tiny: [...new Set(tiny)].slice(0, 15), promos};
}"""


def report(rows: list[tuple]) -> None:
    print()
    for row in rows:
        print(" | ".join(str(cell) for cell in row))


@pytest.mark.parametrize("mode", ["normal", "large_text"])
async def test_member_pages_pass_axe(phone_page: Page, world, shots, mode):
    npm_assets.install_static_assets()
    page = phone_page
    pages = await member_pages(world)
    failures: list[str] = []
    rows = [("page", "mode", "serious", "critical", "other")]

    async def check(item: MemberPage) -> None:
        await page.goto(item.path)
        if item.click:
            await page.click(item.click)
        if mode == "large_text":
            await expect(page.locator("html")).to_have_class("large-text")
        await open_everything(page)
        found = await axe_violations(page)
        serious = [v for v in found if v["impact"] in ("serious", "critical")]
        rows.append(
            (
                item.name,
                mode,
                sum(len(v["nodes"]) for v in found if v["impact"] == "serious"),
                sum(len(v["nodes"]) for v in found if v["impact"] == "critical"),
                ",".join(sorted({v["id"] for v in found} - {v["id"] for v in serious})) or "-",
            )
        )
        for violation in serious:
            failures.append(
                f"{item.name} [{mode}] {violation['impact']} {violation['id']}: {violation['help']}\n    "
                + "\n    ".join(violation["nodes"][:8])
            )
        if unexplained := await page.evaluate(ERRORS_IN_WORDS):
            failures.append(f"{item.name}: invalid without words: {unexplained}")
        if mode == "large_text":
            seen = await page.evaluate(LARGE_TEXT_CHECKS)
            if seen["fontSize"] < 18 or seen["lineHeight"] < 1.3:
                failures.append(f"{item.name}: body text {seen['fontSize']}px × {seen['lineHeight']:.2f}")
            if seen["overflow"] > 0:
                failures.append(f"{item.name}: {seen['overflow']}px wider than the screen")
            for kind in ("small", "tiny", "promos"):
                if seen[kind]:
                    failures.append(f"{item.name}: {kind}: " + "; ".join(seen[kind]))
        await shots.take(page, item.name)

    # Signed out: the sign-in page, with a wrong password said in words.
    if mode == "large_text":
        await page.goto("/")
        await expect(page.locator("html")).not_to_have_class("large-text")
        async with page.expect_navigation():
            await page.click("[data-testid=large-text-switch]")
        await expect(page.locator("html")).to_have_class("large-text")
        await expect(page.locator("[data-testid=large-text-switch]")).to_have_attribute("aria-pressed", "true")
        await shots.take(page, "switched-on")
    await check(pages[0])
    await page.fill("#username", world.members["chaoyang"][1])
    await page.fill("#password", "not-the-password")
    async with page.expect_navigation():
        await page.click("[data-testid=login-submit]")
    error = page.locator("[role=alert]").first
    await expect(error).to_be_visible()
    assert (await error.inner_text()).strip(), "a sign-in error must be said in words"
    assert not await page.evaluate(ERRORS_IN_WORDS), "an invalid field without words"
    await open_everything(page)
    found = [v for v in await axe_violations(page) if v["impact"] in ("serious", "critical")]
    failures += [f"sign-in-error [{mode}] {v['id']}: {v['nodes'][:4]}" for v in found]
    await shots.take(page, "sign-in-error")

    await page.goto("/login")
    await sign_in(page, world.members["chaoyang"][1], PASSWORD)
    await add_optional_pages(page, pages)
    for item in pages[1:]:
        await check(item)
    report(rows)
    assert not failures, "\n".join(failures)


async def test_large_text_switch_in_me_works_without_javascript(browser, live_server, world, shots):
    from tests.browser.conftest import PHONE, _context

    context = await _context(browser, live_server, {**PHONE, "java_script_enabled": False})
    page = await context.new_page()
    try:
        await page.goto("/login")
        await sign_in(page, world.members["chaoyang"][1], PASSWORD)
        await page.goto("/me")
        switch = page.locator("#large-text [data-testid=large-text-switch]")
        await expect(switch).to_have_attribute("aria-pressed", "false")
        async with page.expect_navigation():
            await switch.click()
        await expect(page).to_have_url(f"{live_server}/me")
        await expect(page.locator("html")).to_have_class("large-text")
        await expect(switch).to_have_attribute("aria-pressed", "true")
        await expect(switch).to_contain_text("已开启")
        await shots.take(page, "me-on")
        async with page.expect_navigation():
            await switch.click()
        await expect(page.locator("html")).not_to_have_class("large-text")
    finally:
        await context.close()


async def test_member_pages_weigh_at_most_100_kb(phone_page: Page, world):
    """Transferred bytes per page, cache disabled (a first visit), from CDP Network events."""
    page = phone_page
    pages = await member_pages(world)
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    loads: dict[str, dict] = {}
    cdp.on(
        "Network.responseReceived",
        lambda event: loads.setdefault(event["requestId"], {}).update(
            url=event["response"]["url"],
            type=event["type"],
            encoding=event["response"]["headers"].get("content-encoding")
            or event["response"]["headers"].get("Content-Encoding")
            or "",
        ),
    )
    cdp.on(
        "Network.loadingFinished",
        lambda event: loads.setdefault(event["requestId"], {}).update(bytes=event["encodedDataLength"]),
    )

    async def weigh(item: MemberPage) -> dict:
        loads.clear()
        await page.goto(item.path, wait_until="load")
        await page.wait_for_load_state("networkidle")
        finished = [load for load in loads.values() if "bytes" in load and "url" in load]
        by_type: dict[str, int] = {}
        for load in finished:
            by_type[load["type"]] = by_type.get(load["type"], 0) + load["bytes"]
        return {"total": sum(by_type.values()), "by_type": by_type, "files": finished}

    rows = [("page", "KB total", "Document", "Stylesheet", "Script", "Image", "other", "requests")]
    over: list[str] = []
    uncompressed: set[str] = set()

    async def record(item: MemberPage) -> None:
        weight = await weigh(item)
        kinds = weight["by_type"]
        other = weight["total"] - sum(kinds.get(k, 0) for k in ("Document", "Stylesheet", "Script", "Image"))
        rows.append(
            (
                item.name,
                f"{weight['total'] / 1024:.1f}",
                *(f"{kinds.get(k, 0) / 1024:.1f}" for k in ("Document", "Stylesheet", "Script", "Image")),
                f"{other / 1024:.1f}",
                len(weight["files"]),
            )
        )
        if weight["total"] > BUDGET_BYTES:
            over.append(
                f"{item.name}: {weight['total'] / 1024:.1f} KB "
                + ", ".join(f"{f['url']} {f['bytes']}" for f in weight["files"])
            )
        for load in weight["files"]:
            if (
                load["type"] in ("Document", "Stylesheet", "Script")
                and load["bytes"] > 1500
                and load["url"].startswith(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2])
                and load["encoding"] not in ("gzip", "br")
            ):
                uncompressed.add(load["url"])

    await record(pages[0])
    await sign_in(page, world.members["chaoyang"][1], PASSWORD)
    await add_optional_pages(page, pages)
    for item in pages[1:]:
        if "#" not in item.path and not item.click:
            await record(item)
    report(rows)
    assert not over, over
    assert not uncompressed, f"sent without compression: {sorted(uncompressed)}"

    # A member's next visit: the versioned CSS/JS and the pictures come from the cache.
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    offer = next(item for item in pages if item.name == "offer-free")
    await weigh(offer)
    again = await weigh(offer)
    fetched = [load for load in again["files"] if load["bytes"] > 0]  # a cache hit transfers 0 bytes
    print(
        f"offer-free again, with the cache: {again['total'] / 1024:.1f} KB "
        f"({', '.join(sorted(load['type'] for load in fetched))})"
    )
    assert {load["type"] for load in fetched} == {"Document"}, fetched


async def test_static_files_are_versioned_cached_and_compressed(client):
    page = await client.get("/login", headers={"accept-encoding": "gzip"})
    assert page.headers.get("content-encoding") == "gzip"
    from marketplace.core.web.static_assets import static

    css = static("app.css")
    assert f'href="{css}"' in page.text and "?v=" in css
    versioned = await client.get(css, headers={"accept-encoding": "gzip"})
    assert versioned.status_code == 200
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert versioned.headers.get("content-encoding") == "gzip"
    plain = await client.get("/static/app.css")
    assert plain.headers["cache-control"] == "no-cache"
    # A request another site fired (BREACH: the page holds the CSRF token) is not compressed.
    cross = await client.get("/search?q=x", headers={"accept-encoding": "gzip", "sec-fetch-site": "cross-site"})
    assert cross.status_code == 200 and "content-encoding" not in cross.headers
    own = await client.get("/search?q=x", headers={"accept-encoding": "gzip", "sec-fetch-site": "same-origin"})
    assert own.headers.get("content-encoding") == "gzip"
    # Offer pictures keep their name for good: cached by the member's browser only.
    from marketplace.seed import pictures as seed_pictures

    picture = await client.get("/media/" + seed_pictures.stored_cover("fitness", "voucher", "游泳体验券"))
    assert picture.status_code == 200 and "content-encoding" not in picture.headers
    assert picture.headers["cache-control"] == "private, max-age=31536000, immutable"
    # axe-core is for the tests only: no page names it.
    assert "axe" not in page.text


@pytest.mark.unit
def test_the_version_changes_with_the_file(tmp_path, monkeypatch):
    from marketplace.core.web import static_assets

    monkeypatch.setattr(static_assets, "STATIC_DIR", tmp_path)
    file = tmp_path / "x.css"
    file.write_text("a{}")
    first = static_assets.static("x.css")
    file.write_text("b{}")
    import os

    os.utime(file, ns=(1, 1))
    assert static_assets.static("x.css") != first
    assert static_assets.static("missing.js") == "/static/missing.js"


async def test_the_large_text_switch_goes_back_only_to_member_pages(client):
    csrf = (await client.get("/login")).cookies.get("csrftoken") or client.cookies.get("csrftoken")
    on = await client.post("/large-text", data={"on": "1", "next": "/me", "_csrf_token": csrf})
    assert on.status_code in (302, 303) and on.headers["location"] == "/me"
    assert "large_text=1" in on.headers["set-cookie"]
    assert 'class="large-text"' in (await client.get("/login")).text
    assert "large-text.css" in (await client.get("/login")).text
    assert 'class="large-text"' not in (await client.get("/provider/login")).text  # member pages only
    away = await client.post("/large-text", data={"on": "0", "next": "//evil.example/", "_csrf_token": csrf})
    assert away.headers["location"] == "/"
    assert 'class="large-text"' not in (await client.get("/login")).text
    assert "large-text.css" not in (await client.get("/login")).text
