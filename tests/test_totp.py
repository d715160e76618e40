"""Two-factor sign-in for operators: RFC 6238 codes, turning it on and off, and sign-in
that asks for the code once it is on."""

import time

import pytest

from marketplace.identity import totp
from tests.providers.test_pages import _login, _post
from tests.test_errors import assert_problem

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890", RFC 6238's SHA-1 key


@pytest.mark.unit
@pytest.mark.parametrize("moment, code", [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"),
                                          (2000000000, "279037")])
def test_codes_match_rfc_6238(moment, code):
    assert totp.code_at(RFC_SECRET, moment) == code
    assert totp.verify(RFC_SECRET, code, moment + 25)  # a step of drift is forgiven
    assert not totp.verify(RFC_SECRET, code, moment + 95)
    assert not totp.verify(RFC_SECRET, "12345", moment)
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert not totp.verify(RFC_SECRET, full_width, moment)  # refused, not a crash


@pytest.mark.unit
def test_only_whole_keys_are_secrets():
    assert totp.is_secret(totp.new_secret()) and totp.is_secret(RFC_SECRET)
    assert not totp.is_secret("A" * 27) and not totp.is_secret("not-base32!") and not totp.is_secret("")


@pytest.mark.integration
@pytest.mark.usefixtures("clean_state")
async def test_an_operator_turns_on_two_factor_and_then_needs_the_code(client, world):
    username = world.operators["chaoyang"]
    await _login(client, "console", username)
    page = await client.get("/console/security")
    secret = page.text.split('data-testid="totp-secret">')[1].split("<")[0]
    assert totp.is_secret(secret) and 'data-testid="totp-qr"' in page.text
    wrong = await _post(client, "/console/security/totp", {"secret": secret, "code": "000000"})
    assert wrong.status_code == 422
    tampered = await _post(client, "/console/security/totp", {"secret": "not-base32!", "code": "000000"})
    assert tampered.status_code == 422
    on = await _post(client, "/console/security/totp", {"secret": secret, "code": totp.code_at(secret, time.time())})
    assert on.status_code in (302, 303)
    assert 'data-testid="totp-on"' in (await client.get("/console/security")).text

    credentials = {"kind": "operator", "username": username, "password": "Correct-Horse-42"}
    assert_problem(await client.post("/api/v1/auth/token", json=credentials), 401, "otp_required")
    assert_problem(await client.post("/api/v1/auth/token", json={**credentials, "otp": "123456"}), 401,
                   "otp_required")
    signed = await client.post("/api/v1/auth/token", json={**credentials, "otp": totp.code_at(secret, time.time())})
    assert signed.status_code == 201
    # The sign-in page asks for it too.
    client.cookies.clear()
    await client.get("/console/login")
    refused = await _post(client, "/console/login", {"username": username, "password": "Correct-Horse-42"})
    assert refused.status_code == 401
    events = await client.get("/api/v1/console/audit?action=operator.totp_enabled",
                              headers={"Authorization": f"Bearer {signed.json()['token']}"})
    assert len(events.json()) == 1
