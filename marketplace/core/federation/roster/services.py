"""Roster import: an operator's CSV of members, checked row by row and applied whole.

Columns `name, phone, id_number, node, groups` (any order, a header first; `groups` is
semicolon-separated member group codes and may be empty). Each row is checked on its
own: the name 1–50 characters, a mainland mobile number, an 18-character resident ID
number with its GB 11643 check character and a real birth date in it (age 16–100), the
code of a grassroots union inside the operator's scope, known group codes. Rows that
repeat an ID number or a phone of an earlier row are reported against it, and so are
rows whose phone belongs to another member already, or whose ID number is a member of
a union outside the operator's scope. A file with any problem changes nothing and keeps
its per-row report (row, field, code, message); row numbers are the file's lines,
the header being line 1, as spreadsheets number them. Row 0 is the file as a whole.

A valid file is applied in one transaction: members are matched by the keyed hash of
their ID number, new ones inserted (no password: they activate their account
themselves), known ones updated (union, groups, name, phone — never the phone of a member
who has activated their account: that row is refused) — so the same file
imported again changes nothing and reports every row unchanged. The import is one
`roster_import` row and one audit event.

Speed (a million rows in well under a minute or two): the rows are checked in Python
with plain string operations, encrypted and hashed in chunks, copied into a temporary
table with COPY, and matched and applied with a few set-based statements. Files of more
than `SYNC_MAX_ROWS` rows run as a job (outbox → `run_import`), with `rows_done` as
progress that the console polls.
"""

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import structlog
from asyncpg.exceptions import UniqueViolationError

from marketplace.core import audit
from marketplace.core.db import engine
from marketplace.core.errors import NotFound, RowProblem
from marketplace.core.federation.roster.matching import CHUNK, apply_staged, find_clashes, stage
from marketplace.core.federation.roster.parsing import (
    COLUMNS,
    MAX_ERRORS,
    Checked,
    Node,
    RosterRejected,
    RowError,
    check_rows,
    content_hash,
    count_rows,
    parse,
)
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics
from marketplace.core.settings import get_settings

log = structlog.get_logger(__name__)

SYNC_MAX_ROWS = 5000  # larger files run as a job
STATUSES = ("queued", "validating", "applying", "done", "failed")


@dataclass
class ImportRead:
    id: int
    operator_id: int
    node_id: int
    filename: str
    rows: int
    created: int
    updated: int
    unchanged: int
    status: str
    rows_done: int
    errors: list[RowError]
    error_count: int
    created_at: datetime
    finished_at: datetime | None

    @property
    def running(self) -> bool:
        return self.status in ("queued", "validating", "applying")


# Starting -------------------------------------------------------------------------------------------------


_IMPORT_SQL = "SELECT * FROM roster_import "


def _read(row) -> ImportRead:
    errors = row["errors"]
    errors = json.loads(errors) if isinstance(errors, str) else errors
    return ImportRead(
        id=row["id"],
        operator_id=row["operator"],
        node_id=row["node"],
        filename=row["filename"],
        rows=row["rows"],
        created=row["created"],
        updated=row["updated"],
        unchanged=row["unchanged"],
        status=row["status"],
        rows_done=row["rows_done"],
        errors=[RowError.of(e) for e in errors],
        error_count=row["error_count"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


async def start_import(principal: Principal, filename: str, content: bytes) -> ImportRead:
    """Import a roster file into the operator's scope: at once when it is small (the
    result, done or failed, is returned), else queued as a job (returned queued).
    A file identical to one still running returns that import instead of a second one."""
    guards.require_operator(principal)
    digest = content_hash(content)
    rows = count_rows(content)
    filename = (filename or "roster.csv").strip()[:255]
    async with engine().transaction() as transaction:
        connection = transaction.connection
        running = await connection.fetchrow(
            _IMPORT_SQL + "WHERE operator = $1 AND content_hash = $2 AND status IN ('queued', 'validating', "
            "'applying') ORDER BY id DESC LIMIT 1",
            principal.id,
            digest,
        )
        if running is not None:
            return _read(running)
        import_id = await connection.fetchval(
            "INSERT INTO roster_import (operator, node, filename, rows, content_hash, created_at) "
            "VALUES ($1, $2, $3, $4, $5, now()) RETURNING id",
            principal.id,
            principal.node_id,
            filename,
            rows,
            digest,
        )
        if rows > SYNC_MAX_ROWS:
            await connection.execute(
                "INSERT INTO roster_import_file (import, content) VALUES ($1, $2)", import_id, content
            )
            await outbox.publish(topics.RosterImportQueued(import_id=import_id))
    log.info("roster_import_started", import_id=import_id, rows=rows, job=rows > SYNC_MAX_ROWS)
    if rows <= SYNC_MAX_ROWS:
        await run_import(import_id, content)
    return await get_import(principal, import_id)


async def get_import(principal: Principal, import_id: int) -> ImportRead:
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT i.* FROM roster_import i JOIN union_node n ON n.id = i.node "
            "WHERE i.id = $1 AND n.path LIKE $2 || '%'",
            import_id,
            principal.node_path,
        )
    if row is None:
        raise NotFound("No such roster import in your scope.", code="import_not_found")
    return _read(row)


async def list_imports(principal: Principal, limit: int = 20) -> list[ImportRead]:
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT i.* FROM roster_import i JOIN union_node n ON n.id = i.node "
            "WHERE n.path LIKE $1 || '%' ORDER BY i.id DESC LIMIT $2",
            principal.node_path,
            limit,
        )
    return [_read(row) for row in rows]


# Running --------------------------------------------------------------------------------------------------


class _Progress:
    """Progress on a connection of its own, so the console sees it while the import's
    transaction is still open."""

    def __init__(self, connection, import_id: int):
        self.db, self.id = connection, import_id

    async def __call__(self, status: str | None = None, rows_done: int | None = None, rows: int | None = None):
        await self.db.execute(
            "UPDATE roster_import SET status = coalesce($2, status), rows_done = coalesce($3, rows_done), "
            "rows = coalesce($4, rows) WHERE id = $1",
            self.id,
            status,
            rows_done,
            rows,
        )


async def run_import(import_id: int, content: bytes | None = None) -> ImportRead | None:
    """Check and apply one import; safe to repeat (a finished import is left alone, an
    interrupted one starts again: nothing of it was committed)."""
    progress_db = await engine().get_new_connection()
    try:
        row = await progress_db.fetchrow(
            "SELECT i.*, n.path AS scope_path FROM roster_import i JOIN union_node n ON n.id = i.node WHERE i.id = $1",
            import_id,
        )
        if row is None or row["status"] in ("done", "failed"):
            return None
        if content is None:
            content = await progress_db.fetchval("SELECT content FROM roster_import_file WHERE import = $1", import_id)
            if content is None:
                return None
        progress = _Progress(progress_db, import_id)
        try:
            try:
                counts = await _run(row, content, progress)
            except UniqueViolationError as error:  # a member added meanwhile by someone else
                raise RosterRejected(
                    [RowProblem("Members changed while the file was applied; import it again.", 0, "file", "conflict")]
                ) from error
            except Exception:
                await progress_db.execute(
                    "UPDATE roster_import SET status = 'failed', errors = $2::jsonb, error_count = 1, "
                    "finished_at = now() WHERE id = $1",
                    import_id,
                    json.dumps(
                        [
                            RowProblem(
                                "The import failed; nothing was applied. Try again.", 0, "file", "internal"
                            ).as_dict()
                        ]
                    ),
                )
                # The stored file holds names, phones and ID numbers in the clear: it goes
                # whatever happened (the operator uploads it again to retry).
                await progress_db.execute("DELETE FROM roster_import_file WHERE import = $1", import_id)
                raise
        except RosterRejected as rejected:
            await progress_db.execute(
                "UPDATE roster_import SET status = 'failed', errors = $2::jsonb, error_count = $3, "
                "finished_at = now() WHERE id = $1",
                import_id,
                json.dumps([error.as_dict() for error in rejected.errors], ensure_ascii=False),
                rejected.count,
            )
            await progress_db.execute("DELETE FROM roster_import_file WHERE import = $1", import_id)
            log.info("roster_import_rejected", import_id=import_id, errors=rejected.count)
            return None
        log.info("roster_import_done", import_id=import_id, **counts)
    finally:
        await progress_db.close()
    return None


def _today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(get_settings().app.timezone)).date()


async def _reference(connection) -> tuple[dict[str, Node], dict[str, str]]:
    nodes = {
        r["code"]: Node(r["id"], r["level"], r["path"])
        for r in await connection.fetch("SELECT id, code, level, path FROM union_node")
    }
    # Group codes, and their Chinese and English names, each to its code.
    groups: dict[str, str] = {}
    for r in await connection.fetch("SELECT code, name_zh, name_en FROM member_group"):
        groups.update({r["name_zh"]: r["code"], r["name_en"]: r["code"], r["code"]: r["code"]})
    return nodes, groups


async def _run(row, content: bytes, progress: _Progress) -> dict:
    import_id, scope_path = row["id"], row["scope_path"]
    await progress(status="validating", rows_done=0)
    nodes, group_codes = await _reference(progress.db)
    today = _today()
    checked, errors = Checked(), []
    seen_ids: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    chunk, total = [], 0
    for line, cells, width in parse(content):
        if cells is None:
            if isinstance(width, str):
                errors.append(
                    RowProblem(
                        "The file is not valid CSV near line %(line)s.",
                        line,
                        "file",
                        "malformed_csv",
                        {"line": line, "problem": width},
                    )
                )
                break
            errors.append(
                RowProblem(
                    "This line has %(found)s columns; the header has %(expected)s.",
                    line,
                    "row",
                    "column_count",
                    {"found": width, "expected": len(COLUMNS)},
                )
            )
            total += 1
            continue
        chunk.append((line, cells))
        if len(chunk) == CHUNK:
            check_rows(chunk, nodes, scope_path, group_codes, today, checked, errors, seen_ids, seen_phones)
            total += len(chunk)
            chunk = []
            await progress(rows_done=total)
            await asyncio.sleep(0)
    check_rows(chunk, nodes, scope_path, group_codes, today, checked, errors, seen_ids, seen_phones)
    total += len(chunk)
    del seen_ids, seen_phones
    await progress(rows_done=total, rows=total)
    if total == 0 and not errors:
        errors.append(RowProblem("The file has a header but no members.", 0, "file", "no_rows"))
    if errors:
        raise RosterRejected(errors)
    await progress(status="applying", rows_done=0)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        # One import applies at a time: two files naming the same person must not race.
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('benefits.roster_import'))")
        # No row lock here: progress is written to this row from another connection meanwhile.
        current = await connection.fetchval("SELECT status FROM roster_import WHERE id = $1", import_id)
        if current in ("done", "failed"):
            return {}
        await stage(connection, checked, progress)
        errors = await find_clashes(connection, scope_path)
        if errors:
            raise RosterRejected(errors[:MAX_ERRORS], len(errors))
        counts = await apply_staged(connection)
        await connection.execute(
            "UPDATE roster_import SET status = 'done', created = $2, updated = $3, unchanged = $4, rows = $5, "
            "rows_done = $5, finished_at = now() WHERE id = $1",
            import_id,
            counts["created"],
            counts["updated"],
            counts["unchanged"],
            total,
        )
        await connection.execute("DELETE FROM roster_import_file WHERE import = $1", import_id)
        principal = Principal(
            kind="operator", id=row["operator"], display_name="", node_id=row["node"], node_path=scope_path
        )
        await audit.record(
            connection,
            principal,
            "roster.import",
            "roster_import",
            import_id,
            details={"rows": total, **counts, "content_hash": row["content_hash"]},
        )
    return counts
