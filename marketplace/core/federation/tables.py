from piccolo.columns import (
    JSONB,
    Array,
    BigInt,
    BigSerial,
    Bytea,
    ForeignKey,
    Integer,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class UnionNode(Table, tablename="union_node"):
    """A node of the federation tree: national, province, city, district or grassroots.

    `path` is a materialised path of ids ("/1/4/23/"); a subtree is every node whose
    path starts with the root's path, answered by a btree index (text_pattern_ops).
    """

    id = Serial(primary_key=True)
    parent = ForeignKey("self", null=True, default=None)
    level = Varchar(length=16)
    code = Varchar(length=32, unique=True)
    name_zh = Varchar(length=100)
    name_en = Varchar(length=100)
    path = Varchar(length=255)
    depth = SmallInt()


class MemberGroup(Table, tablename="member_group"):
    """A group that offers can target: women workers, gig workers, hardship, ..."""

    id = Serial(primary_key=True)
    code = Varchar(length=32, unique=True)
    name_zh = Varchar(length=50)
    name_en = Varchar(length=50)


class Member(Table, tablename="member"):
    """A real-name union member. Phone and ID number are personal data: stored only
    encrypted (AES-GCM) and as a keyed hash for look-ups, never in clear."""

    id = BigSerial(primary_key=True)
    node = ForeignKey(UnionNode, null=False)
    name = Varchar(length=50)
    gender = Varchar(length=1)
    birth_year = SmallInt()
    phone_cipher = Bytea()
    phone_hash = Bytea(unique=True)
    phone_masked = Varchar(length=11)
    id_number_cipher = Bytea()
    id_number_hash = Bytea(unique=True)
    groups = Array(Varchar(length=32))
    password_hash = Text(null=True, default=None)
    status = Varchar(length=16, default="active")
    preferences = JSONB(default={})
    joined_at = Timestamptz()
    created_at = Timestamptz()
    left_at = Timestamptz(null=True, default=None)  # set by the database when status becomes 'left'
    anonymised_at = Timestamptz(null=True, default=None)  # personal data erased (deletion or retention)


class Notification(Table, tablename="notification"):
    """An in-app message to a member."""

    id = BigSerial(primary_key=True)
    member = ForeignKey(Member, null=False)
    kind = Varchar(length=32)
    params = JSONB(default={})  # fills the kind's words (marketplace/core/notifications.py)
    link = Varchar(length=300, null=True, default=None)  # where one tap takes the member
    title = Varchar(length=200, null=True, default=None)  # text of messages written before kinds had words
    body = Text(null=True, default=None)
    source_event = BigInt(null=True, default=None)
    created_at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)


class RosterImport(Table, tablename="roster_import"):
    """One CSV of members uploaded by an operator: checked row by row, applied whole or
    not at all (marketplace/core/federation/roster/services.py). `rows_done` is the progress of a job."""

    id = BigSerial(primary_key=True)
    operator = Integer()  # operator.id (a foreign key in the migration)
    node = ForeignKey(UnionNode, null=False)
    filename = Varchar(length=255, default="")
    rows = Integer(default=0)
    created = Integer(default=0)
    updated = Integer(default=0)
    unchanged = Integer(default=0)
    status = Varchar(length=16, default="queued")
    rows_done = Integer(default=0)
    errors = JSONB(default=[])
    error_count = Integer(default=0)
    content_hash = Varchar(length=64)
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)


class RosterImportFile(Table, tablename="roster_import_file"):
    """The uploaded file of an import that runs as a job, until the job has read it."""

    import_ = BigInt(primary_key=True, db_column_name="import")  # roster_import.id
    content = Bytea()
