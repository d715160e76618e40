"""SMS one-time codes: the sender interface (dev and gateway), the codes' rules, members'
sign-in by code and password reset by code, and the demo's /dev/sms page."""

import json
import re

import httpx
import pytest

from marketplace.core import pii
from marketplace.core.errors import Invalid, TooManyRequests, Unavailable
from marketplace.core.identity import sms
from marketplace.core.kv import redis
from tests.factories import PASSWORD
from tests.providers.test_pages import _post
from tests.test_errors import assert_problem

NEW_PASSWORD = "Spring-Festival-2027"


async def last_sms_code(phone: str) -> str:
    """The code of the newest message the dev sender 'sent' to `phone` (shown masked)."""
    for message in await sms.dev_outbox():
        if message["phone"] == pii.mask_phone(phone):
            return re.search(r"\b(\d{6})\b", message["text"]).group(1)
    raise AssertionError("no text message to this phone")


@pytest.fixture
def settings_env(monkeypatch):
    """Change settings through the environment for one test."""
    from marketplace.core.settings import get_settings

    def apply(**env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


# The sender interface -------------------------------------------------------------------------------


@pytest.mark.unit
async def test_the_gateway_sender_posts_the_message_with_its_key():
    seen = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    sender = sms.GatewaySender("https://sms.example/send", "key-1", transport=httpx.MockTransport(gateway))
    await sender.send("13800138000", "验证码 123456")
    assert seen[0].headers["authorization"] == "Bearer key-1"
    assert json.loads(seen[0].content) == {"phone": "13800138000", "text": "验证码 123456", "sign": "工会普惠"}

    refusing = sms.GatewaySender(
        "https://sms.example/send", "key-1", transport=httpx.MockTransport(lambda request: httpx.Response(503))
    )
    with pytest.raises(Unavailable):
        await refusing.send("13800138000", "x")


@pytest.mark.integration
async def test_the_dev_sender_keeps_the_phone_masked(caplog):
    await sms.DevSender().send("13800138000", "验证码 123456")
    outbox = await sms.dev_outbox()
    assert outbox[0]["phone"] == "138****8000" and "13800138000" not in json.dumps(outbox)
    assert "13800138000" not in caplog.text


# The codes --------------------------------------------------------------------------------------------


@pytest.mark.integration
async def test_codes_are_six_digits_hashed_short_lived_and_good_once(world):
    phone = "13900000001"
    await sms.send_code("reset", phone, 42, "198.51.100.1")
    code = await last_sms_code(phone)
    assert re.fullmatch(r"\d{6}", code)
    # Nothing in Redis holds the code or the phone in clear; the code dies within 5 minutes.
    keys = [key.decode() for key in await redis().keys("sms:code:*")]
    assert len(keys) == 1 and phone not in keys[0]
    stored = await redis().hgetall(keys[0])
    assert code.encode() not in b"".join(stored.values()) and 0 < await redis().ttl(keys[0]) <= 300
    with pytest.raises(Invalid):
        await sms.check_code("login", phone, code)  # another purpose's code is no good
    assert await sms.check_code("reset", phone, code) == 42
    with pytest.raises(Invalid):
        await sms.check_code("reset", phone, code)  # once only


@pytest.mark.integration
async def test_a_code_is_void_after_five_wrong_tries(world):
    phone = "13900000002"
    await sms.send_code("login", phone, 7, "198.51.100.1")
    code = await last_sms_code(phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(sms.MAX_ATTEMPTS):
        with pytest.raises(Invalid):
            await sms.check_code("login", phone, wrong)
    with pytest.raises(Invalid):
        await sms.check_code("login", phone, code)


@pytest.mark.integration
async def test_a_new_code_waits_a_minute(world):
    phone = "13900000003"
    await sms.send_code("login", phone, 7, "198.51.100.1")
    with pytest.raises(TooManyRequests) as refused:
        await sms.send_code("login", phone, 7, "198.51.100.1")
    assert 0 < refused.value.retry_after <= 60


@pytest.mark.integration
async def test_dev_sms_page_exists_only_with_the_dev_sender(client, world, settings_env):
    await sms.DevSender().send("13800138000", "验证码 654321")
    page = await client.get("/dev/sms")
    assert page.status_code == 200 and "138****8000" in page.text and "654321" in page.text
    assert "13800138000" not in page.text
    settings_env(SMS_SENDER="gateway", SMS_GATEWAY_URL="https://sms.example/send", SMS_GATEWAY_KEY="k")
    assert (await client.get("/dev/sms")).status_code == 404


# Members: sign-in and reset by code ---------------------------------------------------------------------


@pytest.mark.integration
async def test_a_member_signs_in_with_a_code_sent_to_the_phone(client, world):
    phone = world.members["chaoyang"][1]
    await client.get("/login")
    page = await client.get("/login")
    assert 'href="/login/sms"' in page.text and 'href="/reset"' in page.text
    await client.get("/login/sms")
    sent = await _post(client, "/login/sms/send", {"phone": phone})
    assert sent.status_code == 200 and 'data-testid="code-sent"' in sent.text and pii.mask_phone(phone) in sent.text
    wrong = await _post(client, "/login/sms", {"phone": phone, "code": "12345"})
    assert wrong.status_code == 422 and 'data-testid="field-error"' in wrong.text
    signed = await _post(client, "/login/sms", {"phone": phone, "code": await last_sms_code(phone)})
    assert signed.status_code in (302, 303)
    assert (await client.get("/me")).status_code == 200


@pytest.mark.integration
async def test_an_unknown_number_gets_the_same_answer_and_no_message(client, world):
    await client.get("/login/sms")
    sent = await _post(client, "/login/sms/send", {"phone": "13911112222"})
    assert sent.status_code == 200 and 'data-testid="code-sent"' in sent.text
    assert await sms.dev_outbox() == []


@pytest.mark.integration
async def test_a_member_resets_a_forgotten_password_by_code(client, world, app):
    phone = world.members["chaoyang"][1]
    other_device = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("198.51.100.9", 1)), base_url="http://testserver"
    )
    async with other_device:
        await other_device.get("/login")
        await _post(other_device, "/login", {"username": phone, "password": PASSWORD})
        assert (await other_device.get("/me")).status_code == 200
        await client.get("/reset")
        await _post(client, "/reset/send", {"phone": phone})
        code = await last_sms_code(phone)
        weak = await _post(
            client, "/reset", {"phone": phone, "code": code, "password": "12345678", "password_again": "12345678"}
        )
        assert weak.status_code == 422
        done = await _post(
            client, "/reset", {"phone": phone, "code": code, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
        )
        assert done.status_code in (302, 303)
        # The other device's session ended; the old password no longer works; the new one does.
        assert (await other_device.get("/me", headers={"accept": "text/html"})).status_code in (302, 303)
    old = await client.post("/api/v1/auth/token", json={"kind": "member", "username": phone, "password": PASSWORD})
    assert_problem(old, 401, "invalid_credentials")
    new = await client.post("/api/v1/auth/token", json={"kind": "member", "username": phone, "password": NEW_PASSWORD})
    assert new.status_code == 201


@pytest.mark.integration
async def test_a_member_signs_in_through_the_api_with_a_code(client, world):
    phone = world.members["chaoyang"][1]
    assert (await client.post("/api/v1/auth/sms-code", json={"phone": phone})).status_code == 202
    assert (await client.post("/api/v1/auth/sms-code", json={"phone": "13911112222"})).status_code == 202
    assert_problem(await client.post("/api/v1/auth/sms-code", json={"phone": phone}), 429, "sms_cooldown")
    assert_problem(await client.post("/api/v1/auth/sms-code", json={"phone": "12"}), 422, "invalid")
    code = await last_sms_code(phone)
    wrong = await client.post("/api/v1/auth/sms-token", json={"phone": phone, "code": "12345"})
    assert assert_problem(wrong, 422, "wrong_code")["errors"][0]["field"] == "code"
    signed = await client.post("/api/v1/auth/sms-token", json={"phone": phone, "code": code})
    assert signed.status_code == 201
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {signed.json()['token']}"})
    assert me.json()["id"] == world.members["chaoyang"][0]
