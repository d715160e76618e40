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
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import structlog
from asyncpg.exceptions import UniqueViolationError

from marketplace import audit, csvfiles, pii
from marketplace.db import engine
from marketplace.errors import Forbidden, NotFound
from marketplace.identity.principal import Principal
from marketplace.jobs import outbox, topics
from marketplace.settings import get_settings

log = structlog.get_logger(__name__)

COLUMNS = ("name", "phone", "id_number", "node", "groups")
# The template's Chinese headers (and common variants people type) for each column.
CHINESE_HEADERS = {"name": "姓名", "phone": "手机号", "id_number": "身份证号", "node": "工会代码", "groups": "会员群体"}
HEADER_ALIASES = {**{zh: column for column, zh in CHINESE_HEADERS.items()},
                  "手机号码": "phone", "手机": "phone", "身份证号码": "id_number", "身份证": "id_number",
                  "所属工会代码": "node", "基层工会代码": "node", "工会编码": "node", "群体": "groups"}


def template_csv() -> bytes:
    """The file operators fill in: the Chinese headers and one example row (UTF-8 with a BOM,
    so that Excel opens it in the right encoding)."""
    header = ",".join(CHINESE_HEADERS[column] for column in COLUMNS)
    body = "11010519900101123"
    example = f"张伟,13800138000,{body}{check_character(body)},110105-001,女职工;新就业形态劳动者"
    return ("\ufeff" + header + "\r\n" + example + "\r\n").encode()
SYNC_MAX_ROWS = 5000  # larger files run as a job
CHUNK = 50_000  # rows per progress step and per COPY
MAX_ERRORS = 1000  # kept and shown at most; error_count says how many there were
MAX_NAME = 50
MIN_AGE, MAX_AGE = 16, 100
STATUSES = ("queued", "validating", "applying", "done", "failed")

_PHONE = re.compile(r"^1[3-9]\d{9}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643
_CHECK = "10X98765432"


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    code: str
    message: str
    params: dict = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "code": self.code, "message": self.message,
                "params": self.params}

    @classmethod
    def of(cls, data: dict) -> "RowError":
        return cls(data["row"], data["field"], data["code"], data["message"], data.get("params") or {})


class RosterRejected(Exception):
    """The file has problems; nothing of it was applied."""

    def __init__(self, errors: list[RowError], count: int | None = None):
        super().__init__(f"{count or len(errors)} problem(s) in the roster file; nothing was applied.")
        self.errors = sorted(errors, key=lambda error: error.row)[:MAX_ERRORS]
        self.count = count if count is not None else len(errors)


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


# Checking rows --------------------------------------------------------------------------------------------

def check_character(first17: str) -> str:
    return _CHECK[sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS)) % 11]


def birth_date_problem(id_number: str, today: date) -> str | None:
    """Why the birth date inside an ID number is not plausible, or None."""
    try:
        born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return "not a real calendar date"
    if born > today:
        return "in the future"
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if not MIN_AGE <= age <= MAX_AGE:
        return f"an age of {age}, outside {MIN_AGE}–{MAX_AGE}"
    return None


@dataclass(frozen=True)
class Node:
    id: int
    level: str
    path: str


@dataclass
class Checked:
    """The valid rows, column by column (cheaper than an object per row)."""

    rows: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    id_numbers: list[str] = field(default_factory=list)
    nodes: list[int] = field(default_factory=list)
    groups: list[list[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)


def check_rows(entries, nodes: dict[str, Node], scope_path: str, group_codes: set[str] | dict[str, str], today: date,
               checked: Checked, errors: list[RowError], seen_ids: dict[str, int], seen_phones: dict[str, int]
               ) -> None:
    """Check `entries` ((line, cells in COLUMNS order) pairs), appending to `checked` and
    `errors`; `seen_*` carry the first row of each ID number and phone across chunks."""
    phone_ok, id_ok = _PHONE.match, _ID_NUMBER.match
    add = errors.append
    for line, (name, phone, id_number, node_code, group_text) in entries:
        problems = len(errors)
        name = name.strip()
        if not name:
            add(RowError(line, "name", "name_required", "name is required."))
        elif len(name) > MAX_NAME:
            add(RowError(line, "name", "name_too_long", f"name must be at most {MAX_NAME} characters.",
                         {"max": MAX_NAME}))
        phone = phone.strip()
        if not phone_ok(phone):
            add(RowError(line, "phone", "bad_phone", "Enter a mainland mobile number of 11 digits."))
        id_number = id_number.strip().upper()
        if not id_ok(id_number):
            add(RowError(line, "id_number", "bad_id_number",
                         "id_number must be 17 digits followed by a digit or X."))
        elif check_character(id_number[:17]) != id_number[17]:
            add(RowError(line, "id_number", "bad_checksum",
                         "id_number's check character does not match (GB 11643)."))
        else:
            problem = birth_date_problem(id_number, today)
            if problem:
                add(RowError(line, "id_number", "bad_birth_date",
                             f"The birth date in id_number is not plausible: {problem}.", {"problem": problem}))
        node_code = node_code.strip()
        node = nodes.get(node_code)
        if node is None:
            add(RowError(line, "node", "unknown_node", f"There is no union with the code {node_code[:40]!r}.",
                         {"code": node_code[:40]}))
        elif not node.path.startswith(scope_path):
            add(RowError(line, "node", "node_out_of_scope", f"Union {node_code} is outside your scope.",
                         {"code": node_code}))
        elif node.level != "grassroots":
            add(RowError(line, "node", "not_grassroots",
                         f"Union {node_code} is not a grassroots union; members belong to one.", {"code": node_code}))
        # Groups by code or by name (女职工), separated by ; or the Chinese ；、
        parts = (part.strip() for part in group_text.replace("；", ";").replace("、", ";").split(";"))
        groups = [group_codes.get(code, code) if isinstance(group_codes, dict) else code for code in parts if code]
        unknown = [code for code in groups if code not in group_codes]
        if unknown:
            names = ", ".join(code[:32] for code in unknown)
            add(RowError(line, "groups", "unknown_group", f"Unknown member groups: {names}.", {"codes": names}))
        if id_ok(id_number):
            first = seen_ids.setdefault(id_number, line)
            if first != line:
                add(RowError(line, "id_number", "duplicate_id_number",
                             f"Row {line} repeats the ID number of row {first}.", {"first": first}))
        if phone_ok(phone):
            first = seen_phones.setdefault(phone, line)
            if first != line:
                add(RowError(line, "phone", "duplicate_phone", f"Row {line} repeats the phone of row {first}.",
                             {"first": first}))
        if len(errors) == problems:
            checked.rows.append(line)
            checked.names.append(name)
            checked.phones.append(phone)
            checked.id_numbers.append(id_number)
            checked.nodes.append(node.id)
            checked.groups.append(sorted(set(groups)))


# The file -------------------------------------------------------------------------------------------------

MAX_BYTES = 256 * 1024 * 1024  # a million members is about 60 MB of CSV


def decode(content: bytes) -> str:
    """The file's text (marketplace/csvfiles.py: UTF-8 with or without a byte-order mark,
    or GB18030); anything else, or a file over MAX_BYTES, is refused."""
    try:
        return csvfiles.decode_upload(content, max_bytes=MAX_BYTES)
    except csvfiles.UploadError as error:
        raise RosterRejected([RowError(0, "file", error.code, error.text, error.params)]) from None


def parse(content: bytes):
    """(line, [name, phone, id_number, node, groups]) of each data row, lazily; the file's
    shape problems (encoding, empty, header, column counts, broken quoting) as RosterRejected.
    Blank lines are skipped."""
    text = decode(content)
    if not text.strip():
        raise RosterRejected([RowError(0, "file", "empty_file", "The file is empty.")])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = None
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                header = [cell.strip().lower().lstrip("\ufeff") for cell in cells]
                header = [HEADER_ALIASES.get(name, name) for name in header]
                break
    except csv.Error as error:
        raise RosterRejected([RowError(reader.line_num, "file", "malformed_csv",
                                       f"The file is not valid CSV ({error}).", {"line": reader.line_num})]) from error
    if header is None:
        raise RosterRejected([RowError(0, "file", "empty_file", "The file is empty.")])
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in COLUMNS if name not in header]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if unknown or missing or repeated:
        parts = {"unknown": ", ".join(unknown)[:200], "missing": ", ".join(missing), "repeated": ", ".join(repeated)}
        found = "; ".join(f"{kind} columns: {names}" for kind, names in parts.items() if names)
        raise RosterRejected([RowError(reader.line_num, "header", "wrong_header",
                                       f"The first line must name the columns {','.join(COLUMNS)} ({found}).",
                                       {"columns": ",".join(COLUMNS), **parts})])
    order = [header.index(name) for name in COLUMNS]
    width = len(header)
    return _rows(reader, order, width)


def _rows(reader, order: list[int], width: int):
    in_order = order == list(range(len(COLUMNS)))
    try:
        for cells in reader:
            if len(cells) != width:
                if not any(cell.strip() for cell in cells):
                    continue
                yield reader.line_num, None, len(cells)
                continue
            yield reader.line_num, (cells if in_order else [cells[i] for i in order]), width
    except csv.Error as error:
        yield reader.line_num, None, str(error)


def count_rows(content: bytes) -> int:
    """Lines after the header (an estimate that decides between now and a job)."""
    return max(content.count(b"\n") + (0 if content.endswith(b"\n") else 1) - 1, 0)


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# Starting -------------------------------------------------------------------------------------------------

def _operator(principal: Principal) -> None:
    if principal is None or principal.kind != "operator":
        raise Forbidden("Only operators may import rosters.", code="wrong_role")


_IMPORT_SQL = "SELECT * FROM roster_import "


def _read(row) -> ImportRead:
    errors = row["errors"]
    errors = json.loads(errors) if isinstance(errors, str) else errors
    return ImportRead(id=row["id"], operator_id=row["operator"], node_id=row["node"], filename=row["filename"],
                      rows=row["rows"], created=row["created"], updated=row["updated"], unchanged=row["unchanged"],
                      status=row["status"], rows_done=row["rows_done"], errors=[RowError.of(e) for e in errors],
                      error_count=row["error_count"], created_at=row["created_at"], finished_at=row["finished_at"])


async def start_import(principal: Principal, filename: str, content: bytes) -> ImportRead:
    """Import a roster file into the operator's scope: at once when it is small (the
    result, done or failed, is returned), else queued as a job (returned queued).
    A file identical to one still running returns that import instead of a second one."""
    _operator(principal)
    digest = content_hash(content)
    rows = count_rows(content)
    filename = (filename or "roster.csv").strip()[:255]
    async with engine().transaction() as transaction:
        connection = transaction.connection
        running = await connection.fetchrow(
            _IMPORT_SQL + "WHERE operator = $1 AND content_hash = $2 AND status IN ('queued', 'validating', "
            "'applying') ORDER BY id DESC LIMIT 1", principal.id, digest)
        if running is not None:
            return _read(running)
        import_id = await connection.fetchval(
            "INSERT INTO roster_import (operator, node, filename, rows, content_hash, created_at) "
            "VALUES ($1, $2, $3, $4, $5, now()) RETURNING id", principal.id, principal.node_id, filename, rows, digest)
        if rows > SYNC_MAX_ROWS:
            await connection.execute("INSERT INTO roster_import_file (import, content) VALUES ($1, $2)",
                                     import_id, content)
            await outbox.publish(topics.RosterImportQueued(import_id=import_id))
    log.info("roster_import_started", import_id=import_id, rows=rows, job=rows > SYNC_MAX_ROWS)
    if rows <= SYNC_MAX_ROWS:
        await run_import(import_id, content)
    return await get_import(principal, import_id)


async def get_import(principal: Principal, import_id: int) -> ImportRead:
    _operator(principal)
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT i.* FROM roster_import i JOIN union_node n ON n.id = i.node "
            "WHERE i.id = $1 AND n.path LIKE $2 || '%'", import_id, principal.node_path)
    if row is None:
        raise NotFound("No such roster import in your scope.", code="import_not_found")
    return _read(row)


async def list_imports(principal: Principal, limit: int = 20) -> list[ImportRead]:
    _operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT i.* FROM roster_import i JOIN union_node n ON n.id = i.node "
            "WHERE n.path LIKE $1 || '%' ORDER BY i.id DESC LIMIT $2", principal.node_path, limit)
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
            "rows = coalesce($4, rows) WHERE id = $1", self.id, status, rows_done, rows)


async def run_import(import_id: int, content: bytes | None = None) -> ImportRead | None:
    """Check and apply one import; safe to repeat (a finished import is left alone, an
    interrupted one starts again: nothing of it was committed)."""
    progress_db = await engine().get_new_connection()
    try:
        row = await progress_db.fetchrow(
            "SELECT i.*, n.path AS scope_path FROM roster_import i JOIN union_node n ON n.id = i.node "
            "WHERE i.id = $1", import_id)
        if row is None or row["status"] in ("done", "failed"):
            return None
        if content is None:
            content = await progress_db.fetchval("SELECT content FROM roster_import_file WHERE import = $1",
                                                 import_id)
            if content is None:
                return None
        progress = _Progress(progress_db, import_id)
        try:
            try:
                counts = await _run(row, content, progress)
            except UniqueViolationError as error:  # a member added meanwhile by someone else
                raise RosterRejected([RowError(0, "file", "conflict",
                                               "Members changed while the file was applied; import it again.")]
                                     ) from error
            except Exception:
                await progress_db.execute(
                    "UPDATE roster_import SET status = 'failed', errors = $2::jsonb, error_count = 1, "
                    "finished_at = now() WHERE id = $1", import_id, json.dumps([RowError(
                        0, "file", "internal", "The import failed; nothing was applied. Try again.").as_dict()]))
                # The stored file holds names, phones and ID numbers in the clear: it goes
                # whatever happened (the operator uploads it again to retry).
                await progress_db.execute("DELETE FROM roster_import_file WHERE import = $1", import_id)
                raise
        except RosterRejected as rejected:
            await progress_db.execute(
                "UPDATE roster_import SET status = 'failed', errors = $2::jsonb, error_count = $3, "
                "finished_at = now() WHERE id = $1", import_id,
                json.dumps([error.as_dict() for error in rejected.errors], ensure_ascii=False), rejected.count)
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
    nodes = {r["code"]: Node(r["id"], r["level"], r["path"])
             for r in await connection.fetch("SELECT id, code, level, path FROM union_node")}
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
    seen_ids, seen_phones = {}, {}
    chunk, total = [], 0
    for line, cells, width in parse(content):
        if cells is None:
            if isinstance(width, str):
                errors.append(RowError(line, "file", "malformed_csv", f"The file is not valid CSV ({width}).",
                                       {"line": line}))
                break
            errors.append(RowError(line, "row", "column_count",
                                   f"Line {line} has {width} columns; the header has {len(COLUMNS)}.",
                                   {"found": width, "expected": len(COLUMNS)}))
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
        errors.append(RowError(0, "file", "no_rows", "The file has a header but no members."))
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
        await _stage(connection, checked, progress)
        errors = await _database_errors(connection, scope_path)
        if errors:
            raise RosterRejected(errors[:MAX_ERRORS], len(errors))
        counts = await _apply(connection)
        await connection.execute(
            "UPDATE roster_import SET status = 'done', created = $2, updated = $3, unchanged = $4, rows = $5, "
            "rows_done = $5, finished_at = now() WHERE id = $1",
            import_id, counts["created"], counts["updated"], counts["unchanged"], total)
        await connection.execute("DELETE FROM roster_import_file WHERE import = $1", import_id)
        principal = Principal(kind="operator", id=row["operator"], display_name="", node_id=row["node"],
                              node_path=scope_path)
        await audit.record(connection, principal, "roster.import", "roster_import", import_id,
                           details={"rows": total, **counts, "content_hash": row["content_hash"]})
    return counts


_STAGE_COLUMNS = ["row_no", "name", "node", "groups", "gender", "birth_year", "phone_cipher", "phone_hash",
                  "phone_masked", "id_cipher", "id_hash"]


def _stage_records(checked: Checked, start: int, stop: int) -> list[tuple]:
    """COPY rows for the staging table: the personal data encrypted and hashed here."""
    encrypt, lookup_hash, mask = pii.encrypt, pii.lookup_hash, pii.mask_phone
    records = []
    for i in range(start, stop):
        phone, id_number = checked.phones[i], checked.id_numbers[i]
        records.append((
            checked.rows[i], checked.names[i], checked.nodes[i], checked.groups[i],
            "M" if int(id_number[16]) % 2 else "F", int(id_number[6:10]), encrypt(phone), lookup_hash(phone),
            mask(phone), encrypt(id_number), lookup_hash(id_number),
        ))
    return records


async def _stage(connection, checked: Checked, progress: _Progress) -> None:
    await connection.execute(
        "CREATE TEMP TABLE roster_stage (row_no integer PRIMARY KEY, name varchar(50), node integer, "
        "groups varchar(32)[], gender varchar(1), birth_year smallint, phone_cipher bytea, phone_hash bytea, "
        "phone_masked varchar(11), id_cipher bytea, id_hash bytea) ON COMMIT DROP")
    pending = None
    for start in range(0, len(checked), CHUNK):
        # Encrypt the next chunk in a thread while the previous one is being copied.
        records = await asyncio.to_thread(_stage_records, checked, start, min(start + CHUNK, len(checked)))
        if pending is not None:
            await pending
            await progress(rows_done=start)
        pending = asyncio.ensure_future(
            connection.copy_records_to_table("roster_stage", records=records, columns=_STAGE_COLUMNS))
    if pending is not None:
        await pending
    await connection.execute("CREATE INDEX ON roster_stage (id_hash); CREATE INDEX ON roster_stage (phone_hash); "
                             "ANALYZE roster_stage")


async def _database_errors(connection, scope_path: str) -> list[RowError]:
    """Rows that clash with members already there: a phone that is another member's, an
    ID number of a member outside the operator's scope."""
    errors = []
    for r in await connection.fetch(
            "SELECT s.row_no FROM roster_stage s JOIN member m ON m.phone_hash = s.phone_hash "
            "WHERE m.id_number_hash <> s.id_hash "
            # A holder who is in the file too gives the phone up (no phone repeats within the file).
            "AND NOT EXISTS (SELECT 1 FROM roster_stage o WHERE o.id_hash = m.id_number_hash) "
            "ORDER BY s.row_no LIMIT $1", MAX_ERRORS):
        errors.append(RowError(r["row_no"], "phone", "phone_taken",
                               "This phone is registered to another member already."))
    # A member who activated their account signs in with their phone: a roster never
    # changes it (a leaked roster must not move someone's account to another phone); the
    # member changes it themselves.
    for r in await connection.fetch(
            "SELECT s.row_no FROM roster_stage s JOIN member m ON m.id_number_hash = s.id_hash "
            "JOIN union_node n ON n.id = m.node WHERE n.path LIKE $1 || '%' "  # others: member_out_of_scope
            "AND m.password_hash IS NOT NULL AND m.phone_hash <> s.phone_hash ORDER BY s.row_no LIMIT $2",
            scope_path, MAX_ERRORS):
        errors.append(RowError(r["row_no"], "phone", "phone_of_activated_member",
                               "This member has activated their account; only they can change their phone. "
                               "Keep their current phone in the file."))
    for r in await connection.fetch(
            "SELECT s.row_no FROM roster_stage s JOIN member m ON m.id_number_hash = s.id_hash "
            "JOIN union_node n ON n.id = m.node WHERE n.path NOT LIKE $1 || '%' ORDER BY s.row_no LIMIT $2",
            scope_path, MAX_ERRORS):
        errors.append(RowError(r["row_no"], "id_number", "member_out_of_scope",
                               "This person is a member of a union outside your scope; ask for a transfer."))
    return errors


async def _apply(connection) -> dict:
    counts = await connection.fetchrow(
        "SELECT count(*) FILTER (WHERE m.id IS NULL) AS created, "
        "count(*) FILTER (WHERE m.id IS NOT NULL AND (m.node, m.groups, m.name, m.phone_hash) IS DISTINCT FROM "
        "(s.node, s.groups::varchar[], s.name, s.phone_hash)) AS updated, "
        "count(*) FILTER (WHERE m.id IS NOT NULL AND (m.node, m.groups, m.name, m.phone_hash) IS NOT DISTINCT FROM "
        "(s.node, s.groups::varchar[], s.name, s.phone_hash)) AS unchanged "
        "FROM roster_stage s LEFT JOIN member m ON m.id_number_hash = s.id_hash")
    if counts["updated"]:
        # Phones that move between two members of the file would clash one row at a time:
        # park the changing ones first (a hash is 32 bytes; a parked one has 33).
        await connection.execute(
            "UPDATE member m SET phone_hash = '\\x00'::bytea || m.phone_hash FROM roster_stage s "
            "WHERE m.id_number_hash = s.id_hash AND m.phone_hash <> s.phone_hash")
        await connection.execute(
            "UPDATE member m SET node = s.node, groups = s.groups, name = s.name, "
            "phone_cipher = CASE WHEN length(m.phone_hash) = 33 THEN s.phone_cipher ELSE m.phone_cipher END, "
            "phone_masked = s.phone_masked, phone_hash = s.phone_hash "
            "FROM roster_stage s WHERE m.id_number_hash = s.id_hash AND "
            "(m.node, m.groups, m.name, m.phone_hash) IS DISTINCT FROM (s.node, s.groups::varchar[], s.name, s.phone_hash)")
    if counts["created"]:
        await connection.execute(
            "INSERT INTO member (node, name, gender, birth_year, phone_cipher, phone_hash, phone_masked, "
            "id_number_cipher, id_number_hash, groups, password_hash, status, joined_at, created_at) "
            "SELECT s.node, s.name, s.gender, s.birth_year, s.phone_cipher, s.phone_hash, s.phone_masked, "
            "s.id_cipher, s.id_hash, s.groups, NULL, 'active', now(), now() FROM roster_stage s "
            "WHERE NOT EXISTS (SELECT 1 FROM member m WHERE m.id_number_hash = s.id_hash) ORDER BY s.row_no")
    return {"created": counts["created"], "updated": counts["updated"], "unchanged": counts["unchanged"]}
