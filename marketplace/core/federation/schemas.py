from typing import Annotated

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

    @classmethod
    def of(cls, row) -> "NodeRead":
        """From a `union_node` row."""
        return cls(
            id=row["id"],
            parent_id=row["parent"],
            level=row["level"],
            code=row["code"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            path=row["path"],
            depth=row["depth"],
        )


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
    node_id: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    gender: str
    birth_year: Annotated[int, msgspec.Meta(ge=1900, le=2100)]
    phone: Annotated[str, msgspec.Meta(max_length=11)]
    id_number: Annotated[str, msgspec.Meta(max_length=18)]
    groups: Annotated[list[Annotated[str, msgspec.Meta(max_length=32)]], msgspec.Meta(max_length=10)] = []
