from datetime import datetime
from typing import Literal

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
