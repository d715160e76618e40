"""Who is making a request: one value type for all four kinds of user."""

from dataclasses import dataclass, field
from typing import Literal

PrincipalKind = Literal["member", "provider", "operator", "evaluator"]


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    id: int
    display_name: str
    # The federation node: a member's grassroots union, or the root of an operator's
    # or evaluator's scope. `node_path` is its materialised path ("/1/4/").
    node_id: int | None = None
    node_path: str | None = None
    provider_id: int | None = None
    role: str | None = None  # provider users: "owner" or "staff"; operators: administrator, reviewer, analyst
    groups: tuple[str, ...] = field(default_factory=tuple)
    session_hash: str | None = None
    # Members: "active", or "left" — who left the union still signs in to read their own
    # vouchers and points, but claims nothing (see federation.require_current_member).
    member_status: str | None = None
    # Staff who must do something before anything else: "password" (an administrator or
    # owner reset it: choose a new one) or "two_factor" (their role requires it: set it up).
    pending: str | None = None

    def covers(self, node_path: str) -> bool:
        """True when `node_path` lies in this principal's subtree."""
        return self.node_path is not None and node_path.startswith(self.node_path)
