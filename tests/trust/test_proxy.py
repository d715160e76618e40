"""Proxy trust is explicit: X-Forwarded-For counts only from TRUSTED_PROXIES."""

import ipaddress

import httpx
import pytest

from marketplace.core.kv import redis
from marketplace.core.web.proxy import real_client

PROXY = "172.28.0.10"
NETWORKS = (ipaddress.ip_network("172.28.0.10/32"), ipaddress.ip_network("10.1.0.0/16"))


def _scope(peer: str, forwarded: list[str] = (), proto: str | None = None) -> dict:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    if proto:
        headers.append((b"x-forwarded-proto", proto.encode()))
    return {"type": "http", "client": (peer, 5000), "headers": headers}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (_scope(PROXY, ["198.51.100.7"], "https"), ("198.51.100.7", "https")),
        # The client wrote its own X-Forwarded-For; the proxy appended the peer it saw.
        (_scope(PROXY, ["6.6.6.6, 198.51.100.7"]), ("198.51.100.7", None)),
        # Two trusted hops: the right-most untrusted address is the client.
        (_scope(PROXY, ["6.6.6.6, 198.51.100.8, 10.1.2.3"]), ("198.51.100.8", None)),
        (_scope(PROXY, ["198.51.100.9", "10.1.2.3"]), ("198.51.100.9", None)),
        (_scope(PROXY, ["2001:db8::1"]), ("2001:db8::1", None)),
        (_scope(PROXY, ["not-an-address, 198.51.100.7"]), ("198.51.100.7", None)),
        (_scope(PROXY, ["198.51.100.7, junk"]), (None, None)),
        # Anyone else's headers are ignored.
        (_scope("203.0.113.50", ["198.51.100.7"], "https"), (None, None)),
        (_scope(PROXY, [], "ftp"), (None, None)),
    ],
)
def test_the_client_is_what_a_trusted_proxy_says(scope, expected):
    assert real_client(scope, NETWORKS) == expected


@pytest.mark.unit
def test_nothing_is_trusted_by_default():
    assert real_client(_scope(PROXY, ["198.51.100.7"], "https"), ()) == (None, None)


async def _fail_sign_in(app, peer: str, forwarded: str | None) -> None:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post(
            "/api/v1/auth/token",
            headers=headers,
            json={"kind": "operator", "username": "op_beijing", "password": "wrong"},
        )
    assert response.status_code in (401, 429), response.text


async def _addresses_counted() -> str:
    return " ".join(key.decode() if isinstance(key, bytes) else key for key in await redis().keys("login:attempts:*"))


@pytest.mark.integration
@pytest.mark.usefixtures("clean_state")
async def test_two_clients_behind_the_trusted_proxy_are_two_addresses(app, world, monkeypatch):
    from marketplace.core.settings import get_settings

    monkeypatch.setenv("TRUSTED_PROXIES", PROXY)
    get_settings.cache_clear()
    try:
        await _fail_sign_in(app, PROXY, "198.51.100.1")
        await _fail_sign_in(app, PROXY, "6.6.6.6, 198.51.100.2")
        # Not from the proxy: its forged header is ignored, its own address counts.
        await _fail_sign_in(app, "203.0.113.9", "198.51.100.3")
    finally:
        get_settings.cache_clear()
    counted = await _addresses_counted()
    assert "198.51.100.1" in counted and "198.51.100.2" in counted, counted
    assert "203.0.113.9" in counted and "198.51.100.3" not in counted and "6.6.6.6" not in counted, counted
    assert PROXY not in counted, counted


@pytest.mark.integration
@pytest.mark.usefixtures("clean_state")
async def test_without_trusted_proxies_forwarded_headers_are_ignored(app, world):
    await _fail_sign_in(app, PROXY, "198.51.100.1")
    counted = await _addresses_counted()
    assert PROXY in counted and "198.51.100.1" not in counted, counted
