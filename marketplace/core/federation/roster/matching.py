"""Matching the checked rows of a roster file with the members already there, in the
import's transaction: the rows are staged (encrypted and hashed) in a temporary table with
COPY, clashes with other members are found with a few set-based statements, and members
are inserted or updated in one go."""

import asyncio

from marketplace.core import pii
from marketplace.core.errors import RowProblem
from marketplace.core.federation.roster.parsing import MAX_ERRORS, Checked, RowError

CHUNK = 50_000  # rows per progress step and per COPY

_STAGE_COLUMNS = [
    "row_no",
    "name",
    "node",
    "groups",
    "gender",
    "birth_year",
    "phone_cipher",
    "phone_hash",
    "phone_masked",
    "id_cipher",
    "id_hash",
]


def _stage_records(checked: Checked, start: int, stop: int) -> list[tuple]:
    """COPY rows for the staging table: the personal data encrypted and hashed here."""
    encrypt, lookup_hash, mask = pii.encrypt, pii.lookup_hash, pii.mask_phone
    records = []
    for i in range(start, stop):
        phone, id_number = checked.phones[i], checked.id_numbers[i]
        records.append(
            (
                checked.rows[i],
                checked.names[i],
                checked.nodes[i],
                checked.groups[i],
                "M" if int(id_number[16]) % 2 else "F",
                int(id_number[6:10]),
                encrypt(phone),
                lookup_hash(phone),
                mask(phone),
                encrypt(id_number),
                lookup_hash(id_number),
            )
        )
    return records


async def stage(connection, checked: Checked, progress) -> None:
    await connection.execute(
        "CREATE TEMP TABLE roster_stage (row_no integer PRIMARY KEY, name varchar(50), node integer, "
        "groups varchar(32)[], gender varchar(1), birth_year smallint, phone_cipher bytea, phone_hash bytea, "
        "phone_masked varchar(11), id_cipher bytea, id_hash bytea) ON COMMIT DROP"
    )
    pending = None
    for start in range(0, len(checked), CHUNK):
        # Encrypt the next chunk in a thread while the previous one is being copied.
        records = await asyncio.to_thread(_stage_records, checked, start, min(start + CHUNK, len(checked)))
        if pending is not None:
            await pending
            await progress(rows_done=start)
        pending = asyncio.ensure_future(
            connection.copy_records_to_table("roster_stage", records=records, columns=_STAGE_COLUMNS)
        )
    if pending is not None:
        await pending
    await connection.execute(
        "CREATE INDEX ON roster_stage (id_hash); CREATE INDEX ON roster_stage (phone_hash); ANALYZE roster_stage"
    )


async def find_clashes(connection, scope_path: str) -> list[RowError]:
    """Rows that clash with members already there: a phone that is another member's, an
    ID number of a member outside the operator's scope."""
    errors = []
    for r in await connection.fetch(
        "SELECT s.row_no FROM roster_stage s JOIN member m ON m.phone_hash = s.phone_hash "
        "WHERE m.id_number_hash <> s.id_hash "
        # A holder who is in the file too gives the phone up (no phone repeats within the file).
        "AND NOT EXISTS (SELECT 1 FROM roster_stage o WHERE o.id_hash = m.id_number_hash) "
        "ORDER BY s.row_no LIMIT $1",
        MAX_ERRORS,
    ):
        errors.append(
            RowProblem("This phone is registered to another member already.", r["row_no"], "phone", "phone_taken")
        )
    # A member who activated their account signs in with their phone: a roster never
    # changes it (a leaked roster must not move someone's account to another phone); the
    # member changes it themselves.
    for r in await connection.fetch(
        "SELECT s.row_no FROM roster_stage s JOIN member m ON m.id_number_hash = s.id_hash "
        "JOIN union_node n ON n.id = m.node WHERE n.path LIKE $1 || '%' "  # others: member_out_of_scope
        "AND m.password_hash IS NOT NULL AND m.phone_hash <> s.phone_hash ORDER BY s.row_no LIMIT $2",
        scope_path,
        MAX_ERRORS,
    ):
        errors.append(
            RowProblem(
                "This member has activated their account; only they can change their phone. "
                "Keep their current phone in the file.",
                r["row_no"],
                "phone",
                "phone_of_activated_member",
            )
        )
    for r in await connection.fetch(
        "SELECT s.row_no FROM roster_stage s JOIN member m ON m.id_number_hash = s.id_hash "
        "JOIN union_node n ON n.id = m.node WHERE n.path NOT LIKE $1 || '%' ORDER BY s.row_no LIMIT $2",
        scope_path,
        MAX_ERRORS,
    ):
        errors.append(
            RowProblem(
                "This person is a member of a union outside your scope; ask for a transfer.",
                r["row_no"],
                "id_number",
                "member_out_of_scope",
            )
        )
    return errors


async def apply_staged(connection) -> dict:
    counts = await connection.fetchrow(
        "SELECT count(*) FILTER (WHERE m.id IS NULL) AS created, "
        "count(*) FILTER (WHERE m.id IS NOT NULL AND (m.node, m.groups, m.name, m.phone_hash) IS DISTINCT FROM "
        "(s.node, s.groups::varchar[], s.name, s.phone_hash)) AS updated, "
        "count(*) FILTER (WHERE m.id IS NOT NULL AND (m.node, m.groups, m.name, m.phone_hash) IS NOT DISTINCT FROM "
        "(s.node, s.groups::varchar[], s.name, s.phone_hash)) AS unchanged "
        "FROM roster_stage s LEFT JOIN member m ON m.id_number_hash = s.id_hash"
    )
    if counts["updated"]:
        # Phones that move between two members of the file would clash one row at a time:
        # park the changing ones first (a hash is 32 bytes; a parked one has 33).
        await connection.execute(
            "UPDATE member m SET phone_hash = '\\x00'::bytea || m.phone_hash FROM roster_stage s "
            "WHERE m.id_number_hash = s.id_hash AND m.phone_hash <> s.phone_hash"
        )
        await connection.execute(
            "UPDATE member m SET node = s.node, groups = s.groups, name = s.name, "
            "phone_cipher = CASE WHEN length(m.phone_hash) = 33 THEN s.phone_cipher ELSE m.phone_cipher END, "
            "phone_masked = s.phone_masked, phone_hash = s.phone_hash "
            "FROM roster_stage s WHERE m.id_number_hash = s.id_hash AND "
            "(m.node, m.groups, m.name, m.phone_hash) IS DISTINCT FROM (s.node, s.groups::varchar[], s.name, s.phone_hash)"
        )
    if counts["created"]:
        await connection.execute(
            "INSERT INTO member (node, name, gender, birth_year, phone_cipher, phone_hash, phone_masked, "
            "id_number_cipher, id_number_hash, groups, password_hash, status, joined_at, created_at) "
            "SELECT s.node, s.name, s.gender, s.birth_year, s.phone_cipher, s.phone_hash, s.phone_masked, "
            "s.id_cipher, s.id_hash, s.groups, NULL, 'active', now(), now() FROM roster_stage s "
            "WHERE NOT EXISTS (SELECT 1 FROM member m WHERE m.id_number_hash = s.id_hash) ORDER BY s.row_no"
        )
    return {"created": counts["created"], "updated": counts["updated"], "unchanged": counts["unchanged"]}
