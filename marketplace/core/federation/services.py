"""The federation tree and its members: scope checks, subtree queries, membership."""

import re
from datetime import UTC, datetime

from asyncpg.exceptions import UniqueViolationError

from marketplace.core import db, notifications, personal_data, pii
from marketplace.core.db import engine, search_text
from marketplace.core.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.core.federation import scope
from marketplace.core.federation.schemas import MemberCreate, MemberPage, MemberRead, NodeRead, NodeSummary
from marketplace.core.federation.tables import Member, MemberGroup, UnionNode
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics

PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
ID_NUMBER_PATTERN = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]  # GB 11643


def id_check_digit(first17: str) -> str:
    """The check character of an 18-character resident ID number (GB 11643)."""
    return "10X98765432"[sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def is_valid_id_number(value: str) -> bool:
    return bool(ID_NUMBER_PATTERN.match(value)) and id_check_digit(value[:17]) == value[17]


ANONYMOUS_NAME = "已注销会员"


@personal_data.forgets("member")
async def forget_member(connection, member_id: int) -> None:
    """Erase the member's name, phone and ID number; keep the row (and everything tied to it
    for accounting) under an anonymous name. The look-up hashes become unmatchable."""
    await connection.execute(
        "UPDATE member SET name = $2, phone_cipher = $3, id_number_cipher = $3, phone_masked = '', "
        "phone_hash = decode(md5('erased-phone-' || id || random()::text), 'hex'), "
        "id_number_hash = decode(md5('erased-id-' || id || random()::text), 'hex'), password_hash = NULL, "
        "preferences = '{}', status = 'left', anonymised_at = now() WHERE id = $1",
        member_id,
        ANONYMOUS_NAME,
        pii.encrypt(""),
    )


async def get_node(node_id: int) -> NodeRead:
    row = await UnionNode.select().where(UnionNode.id == node_id).first()
    if row is None:
        raise NotFound("No such union.", code="node_not_found", node_id=node_id)
    return NodeRead.of(row)


async def national_node() -> NodeRead:
    """The root of the tree (the national federation), made by the reference data's migration."""
    row = await UnionNode.select().where(UnionNode.parent.is_null()).order_by(UnionNode.id).first()
    if row is None:
        raise NotFound("The national union node does not exist yet.", code="node_not_found")
    return NodeRead.of(row)


async def nodes_in_scope(principal: Principal, limit: int = 500) -> list[NodeRead]:
    """The principal's node and those under it, in tree order (the first `limit`)."""
    if principal.node_path is None:  # no node, no scope (as Principal.covers says)
        return []
    rows = (
        await UnionNode.select()
        .where(UnionNode.path.like(principal.node_path + "%"))
        .order_by(UnionNode.path)
        .limit(limit)
    )
    return [NodeRead.of(row) for row in rows]


async def node_depths(node_ids: list[int]) -> dict[int, int]:
    """node id → depth in the tree (0 for the national federation), for many nodes at once."""
    rows = await UnionNode.select(UnionNode.id, UnionNode.depth).where(UnionNode.id.is_in(list(node_ids) or [0]))
    return {row["id"]: row["depth"] for row in rows}


LEVELS = ("national", "province", "city", "district", "grassroots")


async def create_node(parent_id: int | None, level: str, code: str, name_zh: str, name_en: str) -> NodeRead:
    """Add a node under `parent_id` (None for the root); levels only go down the tree."""
    if level not in LEVELS:
        raise Invalid("Choose one of the levels: %(levels)s.", field="level", params={"levels": ", ".join(LEVELS)})
    parent = await get_node(parent_id) if parent_id is not None else None
    if parent and LEVELS.index(level) <= LEVELS.index(parent.level):
        raise Invalid(
            "A union must sit at a lower level than its parent.", field="level", level=level, parent_level=parent.level
        )
    async with engine().transaction() as transaction:
        try:
            row = await transaction.connection.fetchrow(
                "INSERT INTO union_node (parent, level, code, name_zh, name_en, path, depth) "
                "VALUES ($1, $2, $3, $4, $5, '', $6) RETURNING id",
                parent_id,
                level,
                code,
                name_zh,
                name_en,
                parent.depth + 1 if parent else 0,
            )
        except UniqueViolationError as error:
            raise Conflict(
                "A union with the code %(code)s exists already.",
                code="node_exists",
                field="code",
                params={"code": code},
            ) from error
        path = (parent.path if parent else "/") + f"{row['id']}/"
        await transaction.connection.execute("UPDATE union_node SET path = $1 WHERE id = $2", path, row["id"])
    return await get_node(row["id"])


async def node_summary(principal: Principal, node_id: int) -> NodeSummary:
    node = await scope.require_in_scope(principal, node_id)
    children = await UnionNode.select().where(UnionNode.parent == node_id).order_by(UnionNode.code)
    members = await count_members(node.path)
    return NodeSummary(node=node, members=members, children=[NodeRead.of(row) for row in children])


async def ancestors(node: NodeRead) -> list[NodeRead]:
    """The nodes above `node`, root first (its path "/1/4/23/" names them)."""
    ids = [int(part) for part in node.path.strip("/").split("/")[:-1]]
    rows = await UnionNode.select().where(UnionNode.id.is_in(ids)).order_by(UnionNode.depth) if ids else []
    return [NodeRead.of(row) for row in rows]


async def child_member_counts(node_id: int) -> dict[int, int]:
    """Active members under each child of `node_id`, in one query."""
    rows = await db.fetch(
        "SELECT c.id, count(m.id) AS n FROM union_node c "
        "JOIN union_node d ON d.path LIKE c.path || '%' "
        "LEFT JOIN member m ON m.node = d.id AND m.status = 'active' "
        "WHERE c.parent = $1 GROUP BY c.id",
        node_id,
    )
    return {row["id"]: row["n"] for row in rows}


async def count_members(path: str, include_left: bool = False, member_group: str | None = None) -> int:
    """Members in the subtree at `path`: active ones, or every one with `include_left`;
    only those of `member_group` when given."""
    rows = await db.fetch(
        "SELECT count(*) AS n FROM member m JOIN union_node n ON n.id = m.node "
        "WHERE n.path LIKE $1 AND (m.status = 'active' OR $2) AND ($3::varchar IS NULL OR $3 = ANY(m.groups))",
        path + "%",
        include_left,
        member_group,
    )
    return rows[0]["n"]


async def member_joined_at(member_id: int):
    """When the member joined (new accounts' ratings are watched for bursts)."""
    row = await Member.select(Member.joined_at).where(Member.id == member_id).first()
    return row["joined_at"] if row else None


async def member_node(member_id: int) -> int | None:
    """The grassroots union a member belongs to (None when there is no such member)."""
    row = await Member.select(Member.node).where(Member.id == member_id).first()
    return row["node"] if row else None


async def list_members(principal: Principal, node_id: int, page: int = 1, page_size: int = 20) -> MemberPage:
    node = await scope.require_in_scope(principal, node_id)
    if page < 1 or not 1 <= page_size <= 100:
        raise Invalid("Ask for page 1 or later, with 1 to 100 rows a page.", field="page")
    rows = await db.fetch(
        "SELECT m.id, m.node, m.name, m.phone_masked, m.gender, m.groups, m.status "
        "FROM member m JOIN union_node n ON n.id = m.node WHERE n.path LIKE $1 "
        "ORDER BY m.id LIMIT $2 OFFSET $3",
        node.path + "%",
        page_size,
        (page - 1) * page_size,
    )
    items = [
        MemberRead(
            id=r["id"],
            node_id=r["node"],
            name=pii.mask_name(r["name"]),
            phone=r["phone_masked"],
            gender=r["gender"],
            groups=list(r["groups"]),
            status=r["status"],
        )
        for r in rows
    ]
    total = await count_members(node.path, include_left=True)  # the list shows members who left too
    return MemberPage(items=items, total=total, page=page, page_size=page_size)


async def group_codes() -> set[str]:
    return {row["code"] for row in await MemberGroup.select(MemberGroup.code)}


async def create_member(data: MemberCreate) -> int:
    """Add a member to a grassroots union and announce it (`member.joined`)."""
    if not PHONE_PATTERN.match(data.phone):
        raise Invalid("Enter a mainland mobile number of 11 digits.", field="phone")
    if not is_valid_id_number(data.id_number):
        raise Invalid("Enter an 18-character resident ID number; check the last character.", field="id_number")
    if data.gender not in ("F", "M"):
        raise Invalid("Choose female or male.", field="gender")
    unknown = set(data.groups) - await group_codes()
    if unknown:
        raise Invalid("Choose only known member groups.", field="groups", unknown=sorted(unknown))
    node = await get_node(data.node_id)
    if node.level != "grassroots":
        raise Invalid("Members belong to a grassroots union; choose one.", field="node_id")
    now = datetime.now(UTC)
    async with engine().transaction():
        try:
            rows = await Member.insert(
                Member(
                    node=data.node_id,
                    name=data.name,
                    gender=data.gender,
                    birth_year=data.birth_year,
                    phone_cipher=pii.encrypt(data.phone),
                    phone_hash=pii.lookup_hash(data.phone),
                    phone_masked=pii.mask_phone(data.phone),
                    id_number_cipher=pii.encrypt(data.id_number),
                    id_number_hash=pii.lookup_hash(data.id_number),
                    groups=list(data.groups),
                    joined_at=now,
                    created_at=now,
                )
            ).returning(Member.id)
        except UniqueViolationError as error:
            raise Conflict("A member with this phone or ID number already exists.", code="member_exists") from error
        member_id = rows[0]["id"]
        await outbox.publish(topics.MemberJoined(member_id=member_id))
    return member_id


SIGN_IN_STATUSES = ("active", "left")  # members who left still read their own records


async def find_member_credentials(phone: str) -> tuple[int, str | None] | None:
    row = (
        await Member.select(Member.id, Member.password_hash)
        .where((Member.phone_hash == pii.lookup_hash(phone)) & (Member.status.is_in(list(SIGN_IN_STATUSES))))
        .first()
    )
    return (row["id"], row["password_hash"]) if row else None


# What a member principal is made of, for a statement of another domain that finds the
# member id and wants the principal in the same round trip (identity's session look-up, on
# every signed-in request): `MEMBER_PRINCIPAL_JOIN.format(member_id=<SQL expression>)`
# after its FROM, `MEMBER_PRINCIPAL_COLUMNS` in its select list, then
# `member_principal_from_row(row)`. Only members who may sign in: active ones, or ones who
# left (`member_status` "left": reading only).
MEMBER_PRINCIPAL_COLUMNS = (
    "pm.id AS pm_id, pm.name AS pm_name, pm.node AS pm_node, pm.groups AS pm_groups, "
    "pm.status AS pm_status, pn.path AS pm_path"
)
MEMBER_PRINCIPAL_JOIN = (
    "LEFT JOIN member pm ON pm.id = {member_id} AND pm.status IN ('active', 'left') "
    "LEFT JOIN union_node pn ON pn.id = pm.node"
)


def member_principal_from_row(row, **extra) -> Principal | None:
    if row["pm_id"] is None:
        return None
    return Principal(
        kind="member",
        id=row["pm_id"],
        display_name=row["pm_name"],
        node_id=row["pm_node"],
        node_path=row["pm_path"],
        groups=tuple(row["pm_groups"]),
        member_status=row["pm_status"],
        **extra,
    )


async def member_principal(member_id: int) -> Principal | None:
    """A member who may sign in as a principal."""
    async with db.connection() as connection:
        row = await connection.fetchrow(
            f"SELECT {MEMBER_PRINCIPAL_COLUMNS} FROM (SELECT $1::bigint AS id) AS wanted "
            + MEMBER_PRINCIPAL_JOIN.format(member_id="wanted.id"),
            member_id,
        )
    return member_principal_from_row(row)


def require_current_member(principal: Principal | None) -> None:
    """Members who left the union keep reading their records but claim and pay for nothing."""
    if principal is not None and principal.kind == "member" and principal.member_status == "left":
        raise Forbidden(
            "You have left the union: your vouchers and points stay readable, but you cannot "
            "claim or buy benefits any more.",
            code="member_left",
        )


async def welcome_member(member_id: int, event_id: int) -> None:
    """The in-app welcome message a new member receives (consumer of `member.joined`)."""
    async with engine().transaction() as transaction:
        await notifications.add(
            transaction.connection, [notifications.Message(member_id, "welcome", link="/", source_event=event_id)]
        )


# Transfers and leaving (operators, within their scope) ---------------------------------


async def member_in_scope(connection, principal: Principal, member_id: int, *, lock: bool = False):
    """The member's row (with its union's path and names) if the member belongs to a union
    in the principal's subtree; the NotFound of a missing member otherwise (scope.py's
    policy). With `lock`, the row stays locked until the caller's transaction ends."""
    row = await connection.fetchrow(
        "SELECT m.*, n.path, n.name_zh AS node_name_zh, n.name_en AS node_name_en FROM member m "
        "JOIN union_node n ON n.id = m.node WHERE m.id = $1" + (" FOR UPDATE OF m" if lock else ""),
        member_id,
    )
    scope.require_covers(
        principal, row and row["path"], NotFound("No such member in your scope.", code="member_not_found")
    )
    return row


async def transfer_member(principal: Principal, member_id: int, node_id: int, reason: str | None = None) -> None:
    """Move a member to another grassroots union in the operator's scope. Only the
    member's union changes: points, vouchers and history are the member's own and stay."""
    from marketplace.core import audit

    guards.require_operator(principal)
    target = await scope.require_in_scope(principal, node_id, field="node_id")
    if target.level != "grassroots":
        raise Invalid("Members belong to a grassroots union; choose one.", field="node_id")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        member = await member_in_scope(connection, principal, member_id, lock=True)
        if member["status"] != "active":
            raise Conflict("This member has left the union.", code="member_left")
        if member["node"] == node_id:
            raise Conflict("The member already belongs to this union.", code="same_node", field="node_id")
        await connection.execute("UPDATE member SET node = $2 WHERE id = $1", member_id, node_id)
        await audit.record(
            connection,
            principal,
            "member.transfer",
            "member",
            member_id,
            reason=(reason or "").strip()[:500] or None,
            details={"before": {"node": member["node"]}, "after": {"node": node_id}},
        )


async def leave_member(principal: Principal, member_id: int, reason: str | None = None) -> None:
    """Mark a member as having left: no more benefits, but they still sign in to read
    their own vouchers and points."""
    from marketplace.core import audit

    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        member = await member_in_scope(connection, principal, member_id, lock=True)
        if member["status"] != "active":
            raise Conflict("This member has left the union already.", code="member_left")
        await connection.execute("UPDATE member SET status = 'left' WHERE id = $1", member_id)
        await audit.record(
            connection,
            principal,
            "member.leave",
            "member",
            member_id,
            reason=(reason or "").strip()[:500] or None,
            details={"before": {"status": "active"}, "after": {"status": "left"}},
        )


MEMBER_STATUSES = ("active", "left")


async def search_members(
    principal: Principal,
    node_id: int,
    *,
    q: str = "",
    status: str = "",
    group: str = "",
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[dict], int]:
    """One page of the members under a node in the operator's scope, found by an 11-digit
    phone or an 18-character ID number (through their keyed hashes: never decrypted), or
    else by part of the name; names and phones come back masked."""
    node = await scope.require_in_scope(principal, node_id)
    if page < 1 or not 1 <= page_size <= 100:
        raise Invalid("Ask for page 1 or later, with 1 to 100 rows a page.", field="page")
    text = "".join(q.split()).upper()
    where = ["n.path LIKE $1"]
    args: list[object] = [node.path + "%"]  # the statement's parameters, in $n order
    if PHONE_PATTERN.fullmatch(text):
        args.append(pii.lookup_hash(text))
        where.append(f"m.phone_hash = ${len(args)}")
    elif ID_NUMBER_PATTERN.fullmatch(text):
        args.append(pii.lookup_hash(text))
        where.append(f"m.id_number_hash = ${len(args)}")
    elif text:
        args.append("%" + search_text(text) + "%")
        where.append(f"m.name ILIKE ${len(args)}")
    if status in MEMBER_STATUSES:
        args.append(status)
        where.append(f"m.status = ${len(args)}")
    if group:
        args.append(group)
        where.append(f"${len(args)} = ANY(m.groups)")
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT m.id, m.node, m.name, m.phone_masked, m.groups, m.status, m.joined_at, n.name_zh, n.name_en, "
            "count(*) OVER () AS total FROM member m JOIN union_node n ON n.id = m.node "
            f"WHERE {' AND '.join(where)} ORDER BY m.id LIMIT {int(page_size)} OFFSET {int((page - 1) * page_size)}",
            *args,
        )
    items = [
        {
            "id": r["id"],
            "node_id": r["node"],
            "name": pii.mask_name(r["name"]),
            "phone": r["phone_masked"],
            "groups": list(r["groups"]),
            "status": r["status"],
            "joined_at": r["joined_at"],
            "node_name_zh": r["name_zh"],
            "node_name_en": r["name_en"],
        }
        for r in rows
    ]
    return items, (rows[0]["total"] if rows else 0)


async def group_names() -> dict[str, dict]:
    """Member groups by code, with their names: {"women": {"name_zh": "女职工", "name_en": ...}}."""
    rows = await MemberGroup.select(MemberGroup.code, MemberGroup.name_zh, MemberGroup.name_en)
    return {row["code"]: row for row in rows}
