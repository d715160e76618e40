"""The cashier at the counter, on the shop's phone (390x844): signs in and lands on the
counter, scans the member's QR code with the camera, redeems it, and sees a second use in
red with the first one's time, place and staff.

The camera is Chromium's fake capture device playing a video made here, with Pillow, of
the voucher's QR code (--use-file-for-fake-video-capture); the page reads it with the
vendored jsQR library exactly as it would read a phone's rear camera.
"""

import re
from pathlib import Path

import pytest
import qrcode
from PIL import Image
from playwright.async_api import async_playwright, expect

from catalog.tables import Offer
from marketplace.core.federation import services as federation
from marketplace.vouchers import codes, services
from marketplace.vouchers.tables import Voucher
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_ENV, PAGE_TIMEOUT_MS, PHONE, _watch
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]

WIDTH, HEIGHT = 640, 480


def qr_video(payload: str, path: Path, frames: int = 6) -> Path:
    """A short YUV4MPEG2 (4:2:0) clip of `payload`'s QR code on a white card, as a phone's
    camera would see the member's screen held up to it."""
    matrix = qrcode.make(payload, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    card = Image.new("RGB", (WIDTH, HEIGHT), (235, 235, 230))
    tile = matrix.get_image().convert("RGB")
    side = min(HEIGHT - 40, tile.size[0])
    tile = tile.resize((side, side), Image.NEAREST)
    card.paste(tile, ((WIDTH - side) // 2, (HEIGHT - side) // 2))
    y, cb, cr = card.convert("YCbCr").split()
    half = (WIDTH // 2, HEIGHT // 2)
    frame = y.tobytes() + cb.resize(half, Image.BILINEAR).tobytes() + cr.resize(half, Image.BILINEAR).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + frame)
    return path


async def _prepaid_voucher(world) -> str:
    """A voucher the member already paid ¥69 for online (the counter must say so)."""
    member = await federation.member_principal(world.members["chaoyang"][0])
    code = (await services.claim(member, world.offers["public"])).code
    await Offer.update({Offer.kind: "paid"}).where(Offer.id == world.offers["public"])
    await Voucher.update({Voucher.paid_fen: 6900}).where(Voucher.code == code)
    return code


async def test_cashier_scans_a_qr_code_with_the_camera_and_a_second_use_is_red(
    world, live_server, shots, static_assets, tmp_path
):
    code = await _prepaid_voucher(world)
    video = qr_video(code, tmp_path / "qr.y4m")
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, env=CHROMIUM_ENV)
        context = await browser.new_context(
            base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai", permissions=["camera"], **PHONE
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        desk = await context.new_page()
        problems = _watch(desk)
        try:
            await desk.goto("/provider/login")
            await shots.take(desk, "sign-in")
            await sign_in(desk, world.providers["chaoyang"]["staff"], PASSWORD)
            await expect(desk).to_have_url(re.compile(r"/provider/counter$"))  # staff land on the counter
            await expect(desk.locator("[data-testid=today-empty]")).to_be_visible()
            await shots.take(desk, "counter")

            await desk.click("[data-testid=counter-scan]")
            await desk.wait_for_url(re.compile(r"/provider/counter/check$"))
            await expect(desk.locator("[data-testid=counter-member]")).to_have_text("王*芳")
            await expect(desk.locator("[data-testid=counter-settled]")).to_contain_text("已在线支付 ¥69，")
            assert codes.normalise(await desk.input_value("[data-testid=counter-code]")) == code
            await shots.take(desk, "scanned")

            async with desk.expect_navigation():
                await desk.click("[data-testid=counter-redeem]")
            await expect(desk.locator("[data-testid=counter-redeemed]")).to_be_visible()
            await expect(desk.locator("[data-testid=today-row]")).to_have_count(1)
            await shots.take(desk, "redeemed")

            # The same code typed again, as a member trying it twice: red, with time, place and staff.
            await desk.fill("[data-testid=counter-code]", codes.display(code).lower())
            async with desk.expect_navigation():
                await desk.click("[data-testid=counter-check]")
            banner = desk.locator("[data-testid=counter-second-use]")
            await expect(banner).to_be_visible()
            await expect(banner).to_contain_text("此券已使用过")
            await expect(desk.locator("[data-testid=second-use-location]")).to_have_text("望京店")
            await expect(desk.locator("[data-testid=second-use-staff]")).not_to_have_text("未记录")
            await expect(desk.locator("[data-testid=second-use-time]")).to_have_text(
                re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
            )
            await expect(desk.locator("[data-testid=counter-redeem]")).to_have_count(0)
            # The banner is red: white words on the danger colour.
            colour = await banner.evaluate("el => getComputedStyle(el).backgroundColor")
            assert colour == "rgb(200, 22, 29)"
            width = await desk.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the counter scrolls sideways ({width}px)"
            await shots.take(desk, "second-use")
        finally:
            await context.close()
            await browser.close()
    assert not problems, problems


async def test_a_typo_is_shown_at_the_field_in_chinese(world, live_server, shots, static_assets, browser):
    context = await browser.new_context(base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
    desk = await context.new_page()
    try:
        await desk.goto("/provider/login")
        await sign_in(desk, world.providers["chaoyang"]["staff"], PASSWORD)
        await desk.fill("[data-testid=counter-code]", "ABCD-EFGH-JKMN-P")
        async with desk.expect_navigation():
            await desk.click("[data-testid=counter-check]")
        await expect(desk.locator("[data-testid=counter-error]")).to_contain_text("券码由 14 位字母和数字组成")
        await shots.take(desk, "typo")
    finally:
        await context.close()
