from datetime import datetime
from typing import Annotated, Literal

import msgspec


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["member", "provider", "operator"]
    username: str = msgspec.field()
    password: str = msgspec.field()
    otp: str | None = None  # an operator's one-time code, when two-factor sign-in is on


class TokenRead(msgspec.Struct):
    token: str
    token_type: str
    kind: str
    expires_at: datetime


class PrincipalRead(msgspec.Struct):
    kind: str
    id: int
    display_name: str
    node_id: int | None
    provider_id: int | None
    role: str | None
    groups: list[str]


class SmsCodeRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Ask for a code by SMS to a member's phone: to sign in with it, or to reset the password."""

    phone: Annotated[str, msgspec.Meta(max_length=20)]
    purpose: Literal["login", "reset"] = "login"


class SmsTokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A member's sign-in with the code sent to their phone instead of a password."""

    phone: Annotated[str, msgspec.Meta(max_length=20)]
    code: Annotated[str, msgspec.Meta(max_length=10)]
