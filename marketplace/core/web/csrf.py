"""CSRF protection with a token masked afresh in every response (BREACH), and an explicit
read of the form's token.

Litestar's CSRF middleware keeps its token (64 hex of secret + 64 hex of HMAC) in the
`csrftoken` cookie and checks that the `_csrf_token` field or the `x-csrftoken` header
carries the same one. Pages print the token (`csrf_input`, `csrf_token()`), and gzip
compresses it together with text a request can echo (a search), so response sizes could
leak it byte by byte (BREACH). As Django does, each response prints the token XORed with a
fresh random pad, pad first: the secret never appears twice the same, so compression has
nothing to match. Compression stays on for every page (members are on phones); the
cross-site exception in static_assets.SameOriginCompression is kept as a second layer.

The middleware below is Litestar's with three changes: it unmasks what a request sends
(an unmasked token, as the cookie holds it, is still accepted, as Django accepts one), it
puts a masked token where templates read it, and it reads the form's token through
`CheckedRequest.unchecked_form()` by name: the form as sent, leniently decoded, because
the check that refuses bad input belongs to the handler's `form()`, which names the field
(marketplace/core/web/requests.py). The app installs it in place of Litestar's (marketplace/app.py):
Litestar builds its own only when `csrf_config` is set, which the app leaves unset.
"""

import binascii
import secrets
from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_token
from litestar.types import Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

TOKEN_LENGTH = 128  # hex characters of Litestar's token: 32 bytes of secret, 32 of HMAC
MASKED_LENGTH = 2 * TOKEN_LENGTH


def mask(token: str) -> str:
    """`token` (hex) as pad + (token XOR pad), both hex, with a pad drawn for this call."""
    raw = bytes.fromhex(token)
    pad = secrets.token_bytes(len(raw))
    return pad.hex() + bytes(a ^ b for a, b in zip(raw, pad, strict=True)).hex()


def unmask(sent: str) -> str:
    """The token a masked value carries; an unmasked or malformed value is returned unchanged
    (Litestar's check then accepts the first and refuses the second)."""
    if len(sent) != MASKED_LENGTH:
        return sent
    try:
        pad, masked = bytes.fromhex(sent[:TOKEN_LENGTH]), bytes.fromhex(sent[TOKEN_LENGTH:])
    except (ValueError, binascii.Error):
        return sent
    # A token of the wrong length unmasks to a wrong token, which the comparison refuses.
    return bytes(a ^ b for a, b in zip(masked, pad, strict=False)).hex()


class MaskedCSRFMiddleware(CSRFMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or should_bypass_middleware(
            scope=scope,
            scopes=self.scopes,
            exclude_opt_key=self.config.exclude_from_csrf_key,
            exclude_path_pattern=self.exclude,
        ):
            await self.app(scope, receive, send)
            return
        request: Any = scope["litestar_app"].request_class(scope=scope, receive=receive)
        cookie = request.cookies.get(self.config.cookie_name)
        state = ScopeState.from_scope(scope)
        if request.method in self.config.safe_methods:
            if cookie and self._decode_csrf_token(cookie) is None:
                cookie = None  # not one of ours (tampered with): a new one replaces it
            token = cookie or generate_csrf_token(secret=self.config.secret)
            state.csrf_token = mask(token)
            await self.app(scope, receive, self.create_send_wrapper(send=send, csrf_cookie=cookie, token=token))
            return
        sent = request.headers.get(self.config.header_name)
        content_type, _ = request.content_type
        if not sent and content_type in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
            sent = (await request.unchecked_form()).get("_csrf_token")
        if not (isinstance(sent, str) and cookie and self._csrf_tokens_match(unmask(sent), cookie)):
            raise PermissionDeniedException("CSRF token verification failed")
        # A page shown again after a POST (a form with its errors) prints a fresh mask too.
        state.csrf_token = mask(cookie)
        await self.app(scope, receive, send)


def middleware(config: CSRFConfig):
    """The app's CSRF middleware for `config` (a Litestar middleware factory)."""

    def factory(app):
        return MaskedCSRFMiddleware(app, config)

    return factory
