"""The server-rendered pages: form errors come back in the form, staff are kept out of
the owner's pages, operators decide through the console form."""

import io

import pytest
from PIL import Image

from marketplace.core.db import engine
from tests.factories import PASSWORD
from tests.providers.builders import VALID_CODE

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]
HTML = {"accept": "text/html"}


async def _value(sql: str, *args):
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(sql, *args)


async def _login(client, area: str, username: str, password: str = PASSWORD) -> None:
    await client.get(f"/{area}/login")
    response = await client.post(
        f"/{area}/login",
        data={"username": username, "password": password, "_csrf_token": client.cookies.get("csrftoken")},
    )
    assert response.status_code in (302, 303), response.text


async def _post(client, path: str, data: dict):
    return await client.post(path, data={**data, "_csrf_token": client.cookies.get("csrftoken")}, headers=HTML)


def _application_form(node: int, **changes) -> dict:
    form = {
        "name": "京体健身(三里屯店)",
        "credit_code": VALID_CODE,
        "kind": "gym",
        "node_id": str(node),
        "contact_name": "赵敏",
        "contact_phone": "13812345678",
        "location_name": "三里屯店",
        "address": "北京市朝阳区三里屯路19号",
        "district": "朝阳区",
        "latitude": "39.936",
        "longitude": "116.455",
        "open_mon": "09:00",
        "close_mon": "21:00",
        "username": "jingti_owner",
        "password": "Str0ng-Pass-2026",
    }
    form.update(changes)
    return form


async def test_the_apply_form_rerenders_errors_and_stores_nothing(client, world):
    await client.get("/provider/apply")
    page = await client.get("/provider/apply", headers=HTML)
    assert page.status_code == 200 and "朝阳区总工会" in page.text
    for field, value, label in [
        ("latitude", "abc", "纬度"),
        ("latitude", "80", "纬度"),
        ("close_mon", "08:00", "营业时间"),
        ("password", "12345678", "密码"),
        ("node_id", "", "服务的工会"),
        ("node_id", "99999999999999", "服务的工会"),
    ]:
        response = await _post(client, "/provider/apply", _application_form(world.nodes["chaoyang"], **{field: value}))
        assert 400 <= response.status_code < 500, (field, response.text[:300])
        assert 'data-testid="form-error"' in response.text and label in response.text, field
        assert "京体健身(三里屯店)" in response.text  # what was typed stays in the form
    assert await _value("SELECT count(*) FROM provider WHERE credit_code = $1", VALID_CODE) == 0
    not_a_picture = await client.post(
        "/provider/apply",
        headers=HTML,
        data={**_application_form(world.nodes["chaoyang"]), "_csrf_token": client.cookies.get("csrftoken")},
        files={"licence": ("licence.png", b"not a picture" * 20, "image/png")},
    )
    assert not_a_picture.status_code == 422 and 'id="licence-error"' in not_a_picture.text
    licence = io.BytesIO()
    Image.new("RGB", (1000, 700), (250, 245, 230)).save(licence, "JPEG")
    done = await client.post(
        "/provider/apply",
        headers=HTML,
        data={**_application_form(world.nodes["chaoyang"]), "_csrf_token": client.cookies.get("csrftoken")},
        files={"licence": ("licence.jpg", licence.getvalue(), "image/jpeg")},
    )
    assert done.status_code == 200 and 'data-testid="applied"' in done.text
    assert await _value("SELECT status FROM provider WHERE credit_code = $1", VALID_CODE) == "applied"
    stored = await _value("SELECT licence_image FROM provider WHERE credit_code = $1", VALID_CODE)
    assert stored and stored.startswith("licences/")
    await _login(client, "console", world.operators["chaoyang"])
    provider_id = await _value("SELECT id FROM provider WHERE credit_code = $1", VALID_CODE)
    review = await client.get(f"/console/providers/{provider_id}", headers=HTML)
    assert f'href="/media/{stored}"' in review.text  # the operator checks the licence


async def test_staff_cannot_open_the_owner_pages(client, world):
    await _login(client, "provider", world.providers["chaoyang"]["staff"])
    assert (await client.get("/provider/staff", headers=HTML)).status_code == 403
    assert (await client.get("/provider/locations", headers=HTML)).status_code == 200
    only = await _value("SELECT id FROM location WHERE provider = $1", world.providers["chaoyang"]["id"])
    assert (await _post(client, f"/provider/locations/{only}/remove", {})).status_code == 403
    assert (
        await _post(
            client, "/provider/staff", {"username": "x_staff", "password": "Str0ng-Pass-2026", "display_name": "X"}
        )
    ).status_code == 403
    assert await _value("SELECT count(*) FROM location WHERE provider = $1", world.providers["chaoyang"]["id"]) == 1


async def test_owner_manages_locations_and_staff_through_the_pages(client, world):
    provider = world.providers["chaoyang"]
    await _login(client, "provider", provider["owner"])
    bad = await _post(
        client,
        "/provider/locations",
        {
            "location_name": "工体店",
            "address": "工体北路8号",
            "district": "朝阳区",
            "latitude": "39.93",
            "longitude": "200",
        },
    )
    assert bad.status_code == 422 and "经度" in bad.text
    added = await _post(
        client,
        "/provider/locations",
        {
            "location_name": "工体店",
            "address": "工体北路8号",
            "district": "朝阳区",
            "latitude": "39.93",
            "longitude": "116.44",
            "open_sat": "10:00",
            "close_sat": "22:00",
        },
    )
    assert added.status_code in (302, 303)
    new_id = await _value("SELECT id FROM location WHERE name = '工体店'")
    edit = await client.get(f"/provider/locations?edit={new_id}", headers=HTML)
    assert 'data-testid="location-edit-form"' in edit.text and 'value="22:00"' in edit.text
    assert (await _post(client, f"/provider/locations/{new_id}/remove", {})).status_code in (302, 303)
    last = await _value("SELECT id FROM location WHERE provider = $1", provider["id"])
    refused = await _post(client, f"/provider/locations/{last}/remove", {})
    assert refused.status_code == 409 and 'data-testid="form-error"' in refused.text
    staff = await _post(
        client, "/provider/staff", {"username": "cashier2", "password": "Str0ng-Pass-2026", "display_name": "刘洋"}
    )
    assert staff.status_code in (302, 303)
    page = await client.get("/provider/staff", headers=HTML)
    assert page.text.count('data-testid="user-row"') == 3


async def test_operator_decides_through_the_console_form(client, world):
    provider = world.providers["chaoyang"]
    await _login(client, "console", world.operators["beijing"])
    queue = await client.get("/console/providers?status=active", headers=HTML)
    assert queue.status_code == 200 and queue.text.count('data-testid="provider-row"') == 2
    detail = await client.get(f"/console/providers/{provider['id']}", headers=HTML)
    assert 'data-testid="decide-suspend"' in detail.text and 'data-testid="decide-approve"' not in detail.text
    missing = await _post(client, f"/console/providers/{provider['id']}/decide", {"action": "suspend", "reason": ""})
    assert missing.status_code == 422 and 'data-testid="form-error"' in missing.text
    done = await _post(
        client, f"/console/providers/{provider['id']}/decide", {"action": "suspend", "reason": "卫生投诉"}
    )
    assert done.status_code in (302, 303)
    assert await _value("SELECT status FROM provider WHERE id = $1", provider["id"]) == "suspended"
    page = await client.get(f"/console/providers/{provider['id']}", headers=HTML)
    assert "卫生投诉" in page.text and 'data-testid="decide-reinstate"' in page.text
    await _login(client, "console", world.operators["shijiazhuang"])
    assert (await client.get(f"/console/providers/{provider['id']}", headers=HTML)).status_code == 404
    assert (
        await _post(client, f"/console/providers/{provider['id']}/decide", {"action": "reinstate"})
    ).status_code == 404
