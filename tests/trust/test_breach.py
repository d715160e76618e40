"""BREACH: a page never prints the CSRF token as the cookie holds it. Each response masks it
with a fresh random pad (marketplace/core/web/csrf.py), so gzip has nothing repeated to match
across responses; what a form sends back is unmasked before Litestar's check."""

import re

import pytest

from marketplace.core.web import csrf
from tests.factories import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

HTML = {"accept": "text/html", "accept-encoding": "gzip"}
FIELD = re.compile(r'name="_csrf_token" value="([0-9a-f]+)"')
HEADER = re.compile(r'"x-csrftoken": "([0-9a-f]+)"')


@pytest.mark.unit
def test_a_masked_token_unmasks_to_the_token_and_differs_each_time():
    token = "ab" * 64
    masked = {csrf.mask(token) for _ in range(20)}
    assert len(masked) == 20 and all(len(value) == csrf.MASKED_LENGTH and token not in value for value in masked)
    assert {csrf.unmask(value) for value in masked} == {token}
    assert csrf.unmask(token) == token  # an unmasked token passes through to the usual check
    assert csrf.unmask("zz" * 128) == "zz" * 128  # not hex: left for the check to refuse


async def test_pages_print_a_fresh_mask_of_the_token_and_forms_still_work(client, world):
    client.cookies.clear()
    first = await client.get("/console/login", headers=HTML)
    cookie = client.cookies.get("csrftoken")
    second = await client.get("/console/login", headers=HTML)
    assert first.headers.get("content-encoding") == "gzip"  # compression stays on
    # One mask per response (its form fields and its HTMX header), a new one in the next.
    one, two = (
        set(FIELD.findall(first.text) + HEADER.findall(first.text)),
        set(FIELD.findall(second.text) + HEADER.findall(second.text)),
    )
    assert len(one) == 1 and len(two) == 1 and not one & two
    printed = [*one, *two]
    assert cookie and all(cookie not in value and csrf.unmask(value) == cookie for value in printed)
    assert cookie not in first.text and cookie not in second.text
    # A tampered mask is refused; the masked value a page printed signs in.
    bad = printed[0][:-1] + ("0" if printed[0][-1] != "0" else "1")
    refused = await client.post(
        "/console/login", data={"username": world.operators["beijing"], "password": PASSWORD, "_csrf_token": bad}
    )
    assert refused.status_code == 403
    ok = await client.post(
        "/console/login", data={"username": world.operators["beijing"], "password": PASSWORD, "_csrf_token": printed[0]}
    )
    assert ok.status_code in (302, 303), ok.text
    # HTMX sends the header it was given.
    page = await client.get("/console/team", headers=HTML)
    header = HEADER.findall(page.text)[0]
    assert cookie not in page.text
    changed = await client.post(
        "/console/team/nodes",
        headers={**HTML, "x-csrftoken": header},
        data={"parent_id": "0", "level": "city", "code": "", "name_zh": "", "name_en": ""},
    )
    assert changed.status_code != 403
