"""Which address a request came from, behind reverse proxies trusted by configuration.

`TRUSTED_PROXIES` (comma-separated addresses or networks, e.g. `172.28.0.10` or
`10.0.0.0/8`) names the proxies in front of the web server; none by default. Only for a
request whose peer is one of them are `X-Forwarded-For` and `X-Forwarded-Proto` honoured:
the client is the right-most address of `X-Forwarded-For` that is not itself a trusted
proxy (addresses further left were written by the client and can be anything), and the
scheme is the proxy's `X-Forwarded-Proto`. From any other peer both headers are ignored,
so nobody can choose the address their sign-in throttle or rating network is counted
under. This is the one place that decides it (uvicorn's own proxy handling is off, see
`benefits serve`); docs/operations.md, "Reverse proxy", shows the compose setting.
"""

import ipaddress
from functools import lru_cache

from litestar.types import ASGIApp, Receive, Scope, Send

from marketplace.core.settings import get_settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache
def _trusted(spec: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _is_trusted(address, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def _header(scope: Scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers", []) if key == name]


def real_client(scope: Scope, networks: tuple[Network, ...]) -> tuple[str | None, str | None]:
    """(client address, scheme) as the trusted proxies report them, or (None, None)."""
    peer = scope.get("client")
    if not networks or not peer or not _is_trusted(_address(peer[0]), networks):
        return None, None
    hops = [hop.strip() for line in _header(scope, b"x-forwarded-for") for hop in line.split(",") if hop.strip()]
    client = None
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage in the chain: trust nothing further left
        client = str(address)
        if not _is_trusted(address, networks):
            break
    protos = [p.strip().lower() for line in _header(scope, b"x-forwarded-proto") for p in line.split(",")]
    scheme = protos[-1] if protos and protos[-1] in ("http", "https") else None
    return client, scheme


def proxy_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            networks = _trusted(get_settings().app.trusted_proxies)
            client, scheme = real_client(scope, networks)
            if client:
                scope["client"] = (client, 0)
            if scheme:
                scope["scheme"] = scheme if scope["type"] == "http" else {"http": "ws", "https": "wss"}[scheme]
        await app(scope, receive, send)

    return middleware
