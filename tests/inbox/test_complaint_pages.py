"""A member's complaint on the voucher page: an optional photo (checked and resized like offer
pictures; anything else refused at the field), the promised reply time, and the timeline
已提交 → 商家答复 → 平台处理/已解决 as the provider answers and the union closes it."""

import io

import pytest
from PIL import Image

from evaluation.complaints import services as complaints
from marketplace.runtime.paths import component_dir
from tests.evaluation.test_quality_loop import redeemed_voucher
from tests.evaluation.test_quality_pages import member_login
from tests.points.test_ledger import operator
from tests.providers.test_pages import HTML, _login
from tests.settlements.helpers import provider_principal

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


def png(width: int = 1600, height: int = 900) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


async def post_complaint(client, voucher_id: int, photo: tuple | None, key: str):
    data = {
        "category": "safety_hygiene",
        "text": "餐具上有污渍，拍了照片",
        "idempotency_key": key,
        "_csrf_token": client.cookies.get("csrftoken"),
    }
    return await client.post(
        f"/vouchers/{voucher_id}/complaints", data=data, files={"photo": photo} if photo else None, headers=HTML
    )


async def test_a_complaint_with_a_photo_its_reply_time_and_timeline(client, world):
    _, voucher = await redeemed_voucher(world)
    await member_login(client, world)

    refused = await post_complaint(client, voucher.id, ("notes.txt", b"not a picture at all", "image/png"), "k1")
    assert refused.status_code == 422
    assert 'data-testid="field-error"' in refused.text and "请选择 JPEG、PNG 或 WebP 格式的图片" in refused.text

    sent = await post_complaint(client, voucher.id, ("dirty.png", png(), "image/png"), "k2")
    assert sent.status_code in (302, 303) and "done=complained" in sent.headers["location"]
    [complaint] = await complaints.mine(await _member(world), voucher.id)
    assert complaint.photo.startswith("complaints/") and complaint.photo.endswith(".jpg")
    with Image.open(component_dir("media") / complaint.photo) as stored:
        assert (stored.format, stored.width) == ("JPEG", 1200)  # resized like an offer picture
    with Image.open(component_dir("media") / complaint.photo.replace(".jpg", "-400.jpg")) as thumbnail:
        assert thumbnail.width == 400

    page = await client.get(f"/vouchers/{voucher.id}?done=complained", headers=HTML)
    assert "投诉已提交" in page.text and f"/media/{complaint.photo.replace('.jpg', '-400.jpg')}" in page.text
    assert "已提交投诉" in page.text and "商家将在 " in page.text and " 前答复" in page.text

    client.cookies.clear()  # the provider sees the photo beside the complaint it answers
    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    inbox = await client.get("/provider/complaints", headers=HTML)
    assert f"/media/{complaint.photo.replace('.jpg', '-400.jpg')}" in inbox.text and "会员上传的照片" in inbox.text
    client.cookies.clear()
    await member_login(client, world)
    await complaints.answer(await provider_principal(world), complaint.id, "非常抱歉，已全部更换餐具。")
    page = await client.get(f"/vouchers/{voucher.id}", headers=HTML)
    assert "非常抱歉，已全部更换餐具。" in page.text and "前答复" not in page.text and "平台处理" in page.text

    await complaints.close(await operator(world), complaint.id, "已核实，商家整改完毕。")
    page = await client.get(f"/vouchers/{voucher.id}", headers=HTML)
    assert "已解决" in page.text and "已核实，商家整改完毕。" in page.text


async def test_a_complaint_without_a_photo_is_fine(client, world):
    _, voucher = await redeemed_voucher(world)
    await member_login(client, world)
    sent = await post_complaint(client, voucher.id, None, "k3")
    assert sent.status_code in (302, 303)
    [complaint] = await complaints.mine(await _member(world), voucher.id)
    assert complaint.photo is None


async def _member(world):
    from marketplace.core.federation import services as federation

    return await federation.member_principal(world.members["chaoyang"][0])
