"""Scope: what a caller may reach, and the one answer when they may not.

The policy (docs/architecture.md, "Scope: 403 or 404"):

- **403** (`Forbidden`: `wrong_role`, `owner_only`, `role_required`): the caller's kind or
  role may not use this route or action at all. It depends on who asks, never on which
  object, so it tells nothing about any object. The guards, the permission table and
  the role functions of `marketplace.core.identity.guards` (`require_member`,
  `require_operator`, `require_provider`, `require_owner`, ...) answer it.
- **404** (`NotFound`): the object the request names, in its path or its body, does not
  exist, or exists outside the caller's reach: attached to a union outside an operator's
  or evaluator's subtree, another member's, another provider's. Both cases get the same
  answer (status, code and message), so another scope's objects cannot be told from
  missing ones. `require_covers`, `require_owned` and `require_in_scope` answer it.
- **403 `out_of_scope`** only for an object the caller does see (it is in their scope)
  when the action would reach a part of it above their subtree: a campaign run by a
  district whose share is paid by the city may not have the city's budget changed by the
  district's operator. Nothing is disclosed: the caller already sees that part.

Lists are filtered by the subtree in SQL (`n.path LIKE $1 || '%'`); a look-up by id that
filters the same way and finds nothing already answers 404, and needs nothing from here.
"""

from marketplace.core.errors import NotFound
from marketplace.core.federation.schemas import NodeRead
from marketplace.core.federation.tables import UnionNode
from marketplace.core.identity.principal import Principal


def covers(principal: Principal | None, path: str | None) -> bool:
    """True when the node path `path` (None for a missing object) lies in the principal's subtree."""
    return principal is not None and path is not None and principal.covers(path)


def require_covers(principal: Principal | None, path: str | None, refusal: NotFound) -> None:
    """Nothing when the object's node path lies in the principal's subtree; otherwise
    `refusal`, the same `NotFound` the object's missing id gets (pass None as `path` for a
    missing object, so both take this one exit)."""
    if not covers(principal, path):
        raise refusal


def require_owned(owner_id: int | None, own_id: int | None, refusal: NotFound) -> None:
    """Nothing when the object belongs to the caller (its member or provider id `owner_id`
    equals the caller's `own_id`); otherwise `refusal`, the `NotFound` of a missing object
    (pass None as `owner_id` for a missing one)."""
    if owner_id is None or own_id is None or owner_id != own_id:
        raise refusal


async def require_in_scope(
    principal: Principal, node_id: int | None, refusal: NotFound | None = None, *, field: str | None = None
) -> NodeRead:
    """The union node, if it lies in the principal's subtree. Otherwise `refusal` (the
    `NotFound` of the object that hangs on this node: its offer, its provider, ...), or
    "No such union node" naming `field` when the request named the node itself."""
    row = await UnionNode.select().where(UnionNode.id == node_id).first() if node_id is not None else None
    require_covers(
        principal,
        row["path"] if row else None,
        refusal or NotFound("No such union node in your scope.", code="node_not_found", field=field),
    )
    assert row is not None
    return NodeRead.of(row)
