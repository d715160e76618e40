import msgspec


class NodeRead(msgspec.Struct):
    id: int
    parent_id: int | None
    level: str
    code: str
    name_zh: str
    name_en: str
    path: str
    depth: int


class NodeSummary(msgspec.Struct):
    """A node with how many members and providers its subtree holds."""

    node: NodeRead
    members: int
    children: list[NodeRead]


class MemberRead(msgspec.Struct):
    """A member as anyone but the member sees them: name and phone masked."""

    id: int
    node_id: int
    name: str
    phone: str
    gender: str
    groups: list[str]
    status: str


class MemberPage(msgspec.Struct):
    items: list[MemberRead]
    total: int
    page: int
    page_size: int


class MemberCreate(msgspec.Struct, forbid_unknown_fields=True):
    node_id: int
    name: str
    gender: str
    birth_year: int
    phone: str
    id_number: str
    groups: list[str] = []
