"""Uploads: pixel limits read from the header before decoding, per-provider picture quotas,
files deleted with their offer; provider applications throttled per address."""

import io

import httpx
import pytest

from catalog import services as catalog
from marketplace.runtime.paths import component_dir
from providers.credit_codes import credit_code_check_char, organisation_code_check_char
from providers.tables import Provider
from tests.catalog.builders import offer_body, owner, picture
from tests.providers.builders import application

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

OFFERS = "/api/v1/provider/offers/"


def _bomb() -> bytes:
    """A 64-megapixel PNG of a few kilobytes: decoding it would take 64 MB and more."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (8000, 8000), 0).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


async def _draft(client, headers, world) -> int:
    response = await client.post(OFFERS, headers=headers, json=offer_body(world))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _upload(client, headers, offer_id: int, content: bytes):
    return await client.post(
        f"{OFFERS}{offer_id}/image", headers=headers, files={"image": ("cover.png", content, "image/png")}
    )


async def test_a_picture_claiming_too_many_pixels_is_refused_before_decoding(client, world, monkeypatch):
    headers = await owner(client, world)
    offer_id = await _draft(client, headers, world)
    content = _bomb()
    assert len(content) < 100_000
    from PIL import Image

    decoded = []
    real_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self.size) or real_load(self))
    response = await _upload(client, headers, offer_id, content)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "image"
    assert not [size for size in decoded if size == (8000, 8000)], "the picture was decoded"


async def test_replaced_and_deleted_pictures_leave_the_disk(client, world):
    headers = await owner(client, world)
    offer_id = await _draft(client, headers, world)
    first = (await _upload(client, headers, offer_id, picture("PNG"))).json()["cover_image"]
    media = component_dir("media")
    assert (media / first).exists() and (media / catalog.thumbnail_of(first)).exists()
    second = (await _upload(client, headers, offer_id, picture("JPEG", color=(0, 90, 200)))).json()["cover_image"]
    assert second != first and (media / second).exists()
    assert not (media / first).exists() and not (media / catalog.thumbnail_of(first)).exists()
    assert (await client.delete(f"{OFFERS}{offer_id}", headers=headers)).status_code in (200, 204)
    assert not (media / second).exists() and not (media / catalog.thumbnail_of(second)).exists()


async def test_a_provider_not_yet_approved_keeps_a_few_pictures_only(client, world):
    await Provider.update({Provider.status: "applied"}).where(Provider.id == world.providers["chaoyang"]["id"])
    headers = await owner(client, world)
    limit, _ = catalog.PICTURE_QUOTA_UNAPPROVED
    small = picture("JPEG", size=(64, 48))
    for _ in range(limit):
        response = await _upload(client, headers, await _draft(client, headers, world), small)
        assert response.status_code == 200, response.text
    refused = await _upload(client, headers, await _draft(client, headers, world), small)
    assert refused.status_code == 409 and refused.json()["code"] == "picture_quota", refused.text
    assert refused.json()["errors"][0]["field"] == "image"


def _credit_code(serial: int) -> str:
    organisation = f"M{serial:06d}Y"
    first17 = "91350100" + organisation + organisation_code_check_char(organisation)
    return first17 + credit_code_check_char(first17)


async def _apply(app, address: str, world, serial: int):
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.post(
            "/api/v1/providers/applications",
            json=application(
                world.nodes["chaoyang"],
                credit_code=_credit_code(serial),
                owner={"username": f"applicant_{serial}", "password": "Str0ng-Pass-2026"},
            ),
        )


async def test_provider_applications_are_throttled_per_address(app, world):
    from providers import services

    for serial in range(services.APPLICATIONS_PER_ADDRESS):
        response = await _apply(app, "198.51.100.20", world, serial)
        assert response.status_code == 201, response.text
    refused = await _apply(app, "198.51.100.20", world, 99)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0, refused.text
    assert (await _apply(app, "198.51.100.21", world, 100)).status_code == 201
