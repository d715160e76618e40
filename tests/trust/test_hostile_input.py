"""Hostile input is refused where it enters (marketplace/core/web/requests.py), naming the field.

A NUL or any other control character, text that is not UTF-8, a JSON body nested too deep or
too large, and a date outside 2000-2100: each answered 4xx, never 500, and nothing stored.
"""

import json

import pytest

from tests.catalog.builders import count, offer_body, owner
from tests.catalog.test_pages import _form, _web_login

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

OFFERS = "/api/v1/provider/offers/"
HTML = {"accept": "text/html"}


def _field(response) -> set[str]:
    return {error["field"] for error in response.json().get("errors") or []}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title_zh": "私教\x00体验课"}, "title_zh"),
        ({"title_zh": "私教\x1b[31m体验课"}, "title_zh"),
        ({"title_zh": "私教\n体验课"}, "title_zh"),  # a title is one line
        ({"description_zh": "一对一\x00"}, "description_zh"),
        ({"tags": ["私教", "健\x07身"]}, "tags.1"),
        ({"title_zh": "私教\ud800体验课"}, "body"),  # a lone surrogate is no UTF-8: malformed JSON
        ({"valid_to": "9999-12-31T00:00:00+08:00"}, "valid_to"),
        ({"valid_from": "0001-01-01T00:00:00Z"}, "valid_from"),
        ({"valid_to": "2101-01-01T00:00:00Z"}, "valid_to"),
    ],
)
async def test_api_refuses_control_characters_and_dates_at_the_field(client, world, changes, field):
    headers = await owner(client, world)
    body = json.dumps(offer_body(world, **changes), ensure_ascii=True)
    response = await client.post(OFFERS, content=body, headers={**headers, "content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in _field(response), response.text
    assert await count("offer") == 3  # the world's three


async def test_api_keeps_line_breaks_and_tabs_in_multi_line_fields(client, world):
    headers = await owner(client, world)
    response = await client.post(
        OFFERS,
        headers=headers,
        json=offer_body(world, description_zh="第一行\n第二行\r\n\t缩进", terms_zh="需预约\n周一闭馆"),
    )
    assert response.status_code == 201, response.text


async def test_api_refuses_bodies_that_are_not_utf8(client, world):
    headers = await owner(client, world)
    raw = json.dumps(offer_body(world, title_zh="TITLE")).encode().replace(b"TITLE", b"\xff\xfe\xc3")
    response = await client.post(OFFERS, content=raw, headers={**headers, "content-type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert _field(response) == {"body"}


@pytest.mark.parametrize("depth", [40, 5000, 200_000])
async def test_api_refuses_deeply_nested_json(client, world, depth):
    headers = await owner(client, world)
    raw = b'{"title_zh": ' + b"[" * depth + b"]" * depth + b"}"
    response = await client.post(OFFERS, content=raw, headers={**headers, "content-type": "application/json"})
    assert response.status_code in (400, 413), response.text
    assert response.json()["code"] in ("json_too_deep", "payload_too_large")


async def test_api_refuses_oversized_json_with_413(client, world):
    headers = await owner(client, world)
    raw = json.dumps(offer_body(world, description_zh="长" * 1_200_000)).encode()
    response = await client.post(OFFERS, content=raw, headers={**headers, "content-type": "application/json"})
    assert response.status_code == 413, response.text


async def test_sign_in_refuses_a_nul_in_the_username(client, world):
    response = await client.post(
        "/api/v1/auth/token", json={"kind": "operator", "username": "op_beijing\x00", "password": "x"}
    )
    assert response.status_code == 422 and _field(response) == {"username"}, response.text


async def test_query_strings_are_checked_too(client, world):
    assert (await client.get("/api/v1/search?q=%00")).status_code == 422
    assert (await client.get("/api/v1/search?q=%FF")).status_code == 422
    assert (await client.get("/search?q=%00", headers=HTML)).status_code == 422


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title_zh": "羽毛球\x00场地券"}, "title_zh"),
        ({"valid_to": "9999-12-31"}, "valid_to"),
        ({"valid_from": "0001-01-01"}, "valid_from"),
    ],
)
async def test_offer_form_marks_the_field_in_chinese(client, world, changes, field):
    await _web_login(client, "provider", world.providers["chaoyang"]["owner"])
    response = await client.post(
        "/provider/offers/new",
        headers=HTML,
        data={**_form(world, **changes), "_csrf_token": client.cookies.get("csrftoken")},
    )
    assert 400 <= response.status_code < 500, response.text
    marked = response.text.split(f'id="{field}"', 1)[1].split(">", 1)[0]
    assert 'aria-invalid="true"' in marked, marked
    assert "控制字符" in response.text or "2000" in response.text
    assert await count("offer") == 3


async def test_offer_form_refuses_bytes_that_are_not_utf8_at_the_field(client, world):
    await _web_login(client, "provider", world.providers["chaoyang"]["owner"])
    form = {**_form(world), "_csrf_token": client.cookies.get("csrftoken")}
    form.pop("title_zh")
    from urllib.parse import urlencode

    raw = urlencode(form).encode() + b"&title_zh=%E7%BE%BD%FF%FE"
    response = await client.post(
        "/provider/offers/new", content=raw, headers={**HTML, "content-type": "application/x-www-form-urlencoded"}
    )
    assert 400 <= response.status_code < 500, response.text
    marked = response.text.split('id="title_zh"', 1)[1].split(">", 1)[0]
    assert 'aria-invalid="true"' in marked, marked
    assert await count("offer") == 3


async def test_multi_line_form_fields_keep_line_breaks(client, world):
    await _web_login(client, "provider", world.providers["chaoyang"]["owner"])
    response = await client.post(
        "/provider/offers/new",
        headers=HTML,
        data={**_form(world, description_zh="第一行\r\n第二行\t说明"), "_csrf_token": client.cookies.get("csrftoken")},
    )
    assert response.status_code in (302, 303), response.text


async def test_any_other_form_refuses_in_chinese_without_a_500(client, world):
    """Forms that do not re-render themselves get the error page, in Chinese, never a 500."""
    await _web_login(client, "console", world.operators["beijing"])
    response = await client.post(
        f"/console/listings/{world.offers['public']}/reject",
        headers=HTML,
        data={"reason": "不合适\x00", "_csrf_token": client.cookies.get("csrftoken")},
    )
    assert response.status_code == 422, response.text
    assert "控制字符" in response.text
