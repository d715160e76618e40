"""Result batches of third-party evaluators: mystery-shopper visits and surveys, submitted
as JSON or as a CSV file, checked row by row and applied whole, once.

- Every row is checked (provider known and inside the evaluator's scope, the date a real
  day not in the future, a known method, scores 0–100, a sample of at least one, no row
  twice); every problem is reported with its row and field, and a batch with any problem
  stores nothing (`BatchRejected`, 422).
- A valid batch is stored in one transaction with an outbox event `ResultsApplied`
  ({batch_id, batch_ref, org_id, provider_ids}) for the scorecards.
- `batch_id` is the evaluator's own name for the batch, unique per organisation: sent
  again with the same results (in any order, as JSON or CSV) it answers what the first
  submission did and applies nothing; with other results it is refused (409 `batch_reused`).

Rows are numbered from 1 in the order given; in a CSV file the number is the file's line,
counting the header as line 1, as spreadsheets number them. Row 0 is the batch as a whole.
"""

import csv
import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from evaluation.schemas import BatchInput, BatchPage, BatchRead, ResultRead, RowError
from marketplace.core import csvfiles
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid, NotFound, RowProblem
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics
from marketplace.core.settings import get_settings
from marketplace.core.web.nav import N_

log = structlog.get_logger(__name__)

METHODS = ("mystery_shopper", "phone_survey", "online_survey", "site_inspection")
COLUMNS = ("provider_id", "visit_date", "method", "score", "honoured", "service", "sample_size", "note")
REQUIRED = ("provider_id", "visit_date", "method", "score", "sample_size")
SCORES = ("score", "honoured", "service")
# The columns and methods in words, for pages: a row problem's column, the upload form's
# hints (评价方式（method）). The codes stay what a file's header and the API say.
COLUMN_NAMES = {
    "provider_id": N_("Provider ID"),
    "visit_date": N_("Visit date"),
    "method": N_("Method"),
    "score": N_("Score"),
    "honoured": N_("Discount honoured"),
    "service": N_("Service"),
    "sample_size": N_("Sample size"),
    "note": N_("Note"),
    "batch_id": N_("Batch ID"),
}
METHOD_NAMES = {
    "mystery_shopper": N_("Mystery shopper"),
    "phone_survey": N_("Phone survey"),
    "online_survey": N_("Online survey"),
    "site_inspection": N_("Site inspection"),
}
MAX_ROWS = 5000
MAX_NOTE = 500
MAX_SAMPLE = 1_000_000
MAX_ERRORS = 1000  # reported at most; the count says how many there were
BATCH_REF = re.compile(r"^[^\s/\\]{1,64}$")
_INTEGER = re.compile(r"^[+-]?\d{1,12}$")
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_INT4_MAX = 2**31 - 1


def read_problem(problem: RowProblem) -> RowError:
    return RowError(row=problem.row, field=problem.field, code=problem.code, message=problem.message)


class BatchRejected(Invalid):
    """The batch has problems; nothing of it was stored. `row_errors` lists them in row order."""

    code = "invalid_batch"

    def __init__(self, errors: Sequence[RowProblem]):
        ordered = sorted(errors, key=lambda error: error.row)
        bad_rows = len({error.row for error in ordered if error.row > 0})
        if bad_rows:
            super().__init__(
                N_("%(rows)s row(s) of the batch are invalid; nothing was applied."), params={"rows": bad_rows}
            )
        else:
            super().__init__(N_("%(problem)s Nothing was applied."), params={"problem": ordered[0].message})
        self.row_errors = ordered


@dataclass(frozen=True)
class Result:
    row: int
    provider_id: int
    visit_date: date
    method: str
    score: int
    honoured: int | None
    service: int | None
    sample_size: int
    note: str

    def key(self) -> tuple:
        return (
            self.provider_id,
            self.visit_date.isoformat(),
            self.method,
            self.score,
            self.honoured,
            self.service,
            self.sample_size,
            self.note,
        )


# Checking rows ---------------------------------------------------------------------------------------


# A column's problems are sentences of their own, one a column, so that a translation names
# the column in words beside its code ("第 3 行 评价方式（method）为必填项"): a value put into a
# translated sentence stays as it was given.


def _required(row: int, name: str) -> RowProblem:
    params = {"field": name}
    if name == "provider_id":
        return RowProblem("provider_id is required.", row, name, "required", params)
    if name == "visit_date":
        return RowProblem("visit_date is required.", row, name, "required", params)
    if name == "method":
        return RowProblem("method is required.", row, name, "required", params)
    if name == "score":
        return RowProblem("score is required.", row, name, "required", params)
    if name == "sample_size":
        return RowProblem("sample_size is required.", row, name, "required", params)
    assert name == "batch_id", name  # REQUIRED, and the batch's own ID
    return RowProblem("batch_id is required.", row, name, "required", params)


def _not_integer(row: int, name: str) -> RowProblem:
    params = {"field": name}
    if name == "provider_id":
        return RowProblem("provider_id must be a whole number.", row, name, "not_integer", params)
    if name == "score":
        return RowProblem("score must be a whole number.", row, name, "not_integer", params)
    if name == "honoured":
        return RowProblem("honoured must be a whole number.", row, name, "not_integer", params)
    if name == "service":
        return RowProblem("service must be a whole number.", row, name, "not_integer", params)
    assert name == "sample_size", name  # the integer columns
    return RowProblem("sample_size must be a whole number.", row, name, "not_integer", params)


def _out_of_range(row: int, name: str) -> RowProblem:
    params = {"field": name}
    if name == "score":
        return RowProblem("score must be from 0 to 100.", row, name, "out_of_range", params)
    if name == "honoured":
        return RowProblem("honoured must be from 0 to 100.", row, name, "out_of_range", params)
    assert name == "service", name  # SCORES
    return RowProblem("service must be from 0 to 100.", row, name, "out_of_range", params)


def _unknown_provider(row: int, provider: int) -> RowProblem:
    return RowProblem(
        "Provider %(provider)s does not exist.", row, "provider_id", "unknown_provider", {"provider": provider}
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _integer(row: int, name: str, value: Any, errors: list[RowProblem]) -> int | None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, str))
        or (isinstance(value, str) and not _INTEGER.match(value.strip()))
    ):
        errors.append(_not_integer(row, name))
        return None
    return int(value)


def _date(row: int, value: Any, today: date, errors: list[RowProblem]) -> date | None:
    match = _DATE.match(value.strip()) if isinstance(value, str) else None
    try:
        if match is None:
            raise ValueError
        day = date(*(int(part) for part in match.groups()))
        if day.year < 2000:
            raise ValueError
    except ValueError:
        errors.append(
            RowProblem(
                "visit_date must be a real day written as YYYY-MM-DD, such as 2026-11-03.",
                row,
                "visit_date",
                "bad_date",
            )
        )
        return None
    if day > today:
        errors.append(
            RowProblem(
                "visit_date %(date)s is in the future.", row, "visit_date", "future_date", {"date": day.isoformat()}
            )
        )
        return None
    return day


def check_row(row: int, raw: Any, today: date) -> tuple[Result | None, list[RowProblem]]:
    """One submitted result as a `Result`, or the problems of each of its fields."""
    if not isinstance(raw, dict):
        return None, [RowProblem("Each result must be an object of named fields.", row, "row", "not_an_object")]
    errors: list[RowProblem] = []
    for name in sorted(set(raw) - set(COLUMNS), key=str):
        errors.append(
            RowProblem(
                "%(field)s is not a field of a result.", row, str(name)[:40], "unknown_field", {"field": str(name)[:40]}
            )
        )
    for name in REQUIRED:
        if _blank(raw.get(name)):
            errors.append(_required(row, name))
    values: dict[str, Any] = {}
    if not _blank(raw.get("provider_id")):
        provider = _integer(row, "provider_id", raw["provider_id"], errors)
        if provider is not None and not 0 < provider <= _INT4_MAX:
            errors.append(_unknown_provider(row, provider))
        values["provider_id"] = provider
    if not _blank(raw.get("visit_date")):
        values["visit_date"] = _date(row, raw["visit_date"], today, errors)
    method = raw.get("method")
    if not _blank(method):
        method = method.strip() if isinstance(method, str) else method
        if method not in METHODS:
            errors.append(
                RowProblem(
                    # The methods in the sentence, so that a translation gives each its name.
                    "method must be one of mystery_shopper, phone_survey, online_survey, site_inspection.",
                    row,
                    "method",
                    "unknown_method",
                    {"methods": ", ".join(METHODS)},
                )
            )
        values["method"] = method
    for name in SCORES:
        if _blank(raw.get(name)):
            values[name] = None
            continue
        score = _integer(row, name, raw[name], errors)
        if score is not None and not 0 <= score <= 100:
            errors.append(_out_of_range(row, name))
        values[name] = score
    if not _blank(raw.get("sample_size")):
        size = _integer(row, "sample_size", raw["sample_size"], errors)
        if size is not None and not 1 <= size <= MAX_SAMPLE:
            errors.append(
                RowProblem("sample_size must be at least 1.", row, "sample_size", "sample_too_small")
                if size < 1
                else RowProblem(
                    "The sample size is too large.",
                    row,
                    "sample_size",
                    "out_of_range",
                    {"field": "sample_size", "max": MAX_SAMPLE},
                )
            )
        values["sample_size"] = size
    note = raw.get("note")
    if note is None:
        note = ""
    if not isinstance(note, str):
        errors.append(RowProblem("note must be text.", row, "note", "not_text"))
    elif len(note.strip()) > MAX_NOTE:
        errors.append(
            RowProblem("note must be at most %(max)s characters.", row, "note", "too_long", {"max": MAX_NOTE})
        )
    if errors:
        return None, errors
    return Result(
        row=row,
        provider_id=values["provider_id"],
        visit_date=values["visit_date"],
        method=values["method"],
        score=values["score"],
        honoured=values["honoured"],
        service=values["service"],
        sample_size=values["sample_size"],
        note=note.strip(),
    ), []


def check_rows(entries: Sequence[tuple[int, Any]], today: date) -> tuple[list[Result], list[RowProblem]]:
    """Every row checked on its own, then rows that repeat another (same provider, day and
    method) reported against the first."""
    results, errors = [], []
    if not entries:
        errors.append(RowProblem("The batch has no results.", 0, "results", "no_rows"))
    if len(entries) > MAX_ROWS:
        errors.append(
            RowProblem(
                "A batch holds at most %(max)s results; split it.", 0, "results", "too_many_rows", {"max": MAX_ROWS}
            )
        )
        return [], errors
    first: dict[tuple, int] = {}
    for row, raw in entries:
        result, problems = check_row(row, raw, today)
        errors.extend(problems)
        if result is None:
            continue
        key = (result.provider_id, result.visit_date, result.method)
        if key in first:
            errors.append(
                RowProblem(
                    "Repeats row %(first)s (same provider, visit date and method).",
                    row,
                    "row",
                    "duplicate_row",
                    {"first": first[key]},
                )
            )
            continue
        first[key] = row
        results.append(result)
    return results, errors


# CSV ------------------------------------------------------------------------------------------------

MAX_BYTES = 8 * 1024 * 1024


def decode_csv(content: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark, or GB18030
    (and so GBK and GB2312, what Excel saves on Chinese Windows): marketplace/core/csvfiles.py."""
    try:
        return csvfiles.decode_upload(content, max_bytes=MAX_BYTES, utf16=True)
    except csvfiles.UploadError as error:
        raise BatchRejected([error.problem()]) from None


def parse_csv(content: bytes) -> tuple[list[tuple[int, dict]], list[RowProblem]]:
    """The file's data rows as (line, {column: text}), and the problems of its shape:
    encoding, header, column counts. Blank lines are skipped."""
    text = decode_csv(content)
    if not text.strip():
        return [], [RowProblem("The file is empty.", 0, "file", "empty_file")]
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    entries: list[tuple[int, dict]] = []
    errors: list[RowProblem] = []
    header: list[str] | None = None
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            line = reader.line_num
            if header is None:
                header = [cell.strip().lower().lstrip("\ufeff") for cell in cells]
                errors.extend(csvfiles.header_problems(line, header, COLUMNS, REQUIRED))
                if errors:
                    return [], errors
                continue
            if len(cells) != len(header):
                errors.append(
                    RowProblem(
                        "This line has %(found)s columns; the header has %(expected)s.",
                        line,
                        "row",
                        "column_count",
                        {"found": len(cells), "expected": len(header)},
                    )
                )
                continue
            entries.append((line, dict(zip(header, cells, strict=True))))
    except csv.Error as error:
        errors.append(
            RowProblem(
                "The file is not valid CSV near line %(line)s.",
                reader.line_num,
                "file",
                "malformed_csv",
                {"line": reader.line_num, "problem": str(error)},
            )
        )
        return entries, errors
    if header is not None and not entries and not errors:
        errors.append(RowProblem("The file has a header but no results.", 0, "file", "no_rows"))
    return entries, errors


# Applying ----------------------------------------------------------------------------------------------


def _check_ref(batch_ref: str | None) -> tuple[str, list[RowProblem]]:
    ref = (batch_ref or "").strip()
    if not ref:
        return ref, [_required(0, "batch_id")]
    if not BATCH_REF.match(ref):
        return ref, [
            RowProblem(
                "The batch ID is 1 to 64 characters without spaces or slashes.", 0, "batch_id", "invalid_batch_id"
            )
        ]
    return ref, []


def content_hash(results: Sequence[Result]) -> str:
    """The same results in any order, from JSON or CSV, hash alike."""
    canonical = json.dumps(
        sorted(result.key() for result in results), ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _today(now: datetime) -> date:
    return now.astimezone(ZoneInfo(get_settings().app.timezone)).date()


async def submit_json(principal: Principal, data: BatchInput, *, now: datetime | None = None) -> tuple[BatchRead, bool]:
    """Check and apply a JSON batch; returns (the batch, True when it was applied before)."""
    return await submit(principal, data.batch_id, list(enumerate(data.results, start=1)), "json", now=now)


async def submit_csv(
    principal: Principal, batch_ref: str | None, content: bytes, *, now: datetime | None = None
) -> tuple[BatchRead, bool]:
    """Check and apply a CSV file (columns as `COLUMNS`, a header first)."""
    entries, errors = parse_csv(content)
    return await submit(principal, batch_ref, entries, "csv", errors, now=now)


async def submit(
    principal: Principal,
    batch_ref: str | None,
    entries: Sequence[tuple[int, Any]],
    source: str,
    shape_errors: Sequence[RowProblem] = (),
    *,
    now: datetime | None = None,
) -> tuple[BatchRead, bool]:
    guards.require_evaluator(principal)
    now = now or datetime.now(UTC)
    ref, errors = _check_ref(batch_ref)
    errors.extend(shape_errors)
    results, row_errors = check_rows(entries, _today(now)) if entries or not shape_errors else ([], [])
    errors.extend(row_errors)
    digest = content_hash(results)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        if ref and not any(error.field == "batch_id" for error in errors):
            saved = await _replay(connection, principal.id, ref, digest, bool(errors))
            if saved is not None:
                return saved, True
        errors.extend(await _scope_errors(connection, principal, results))
        if errors:
            raise BatchRejected(errors)
        batch_id = await connection.fetchval(
            "INSERT INTO evaluator_batch (org, batch_ref, source, rows, content_hash, received_at, applied_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (org, batch_ref) DO NOTHING RETURNING id",
            principal.id,
            ref,
            source,
            len(results),
            digest,
            now,
        )
        if batch_id is None:  # the same batch arrived at the same moment and was applied first
            replayed = await _replay(connection, principal.id, ref, digest, False)
            assert replayed is not None  # our insert waited for the one that won: it is committed and seen
            return replayed, True
        columns = list(
            zip(
                *[
                    (r.provider_id, r.visit_date, r.method, r.score, r.honoured, r.service, r.sample_size, r.note)
                    for r in results
                ],
                strict=True,
            )
        )
        await connection.execute(
            "INSERT INTO evaluator_result (batch, org, provider, visit_date, method, score, honoured, service, "
            "sample_size, note) SELECT $1, $2, * FROM unnest($3::int[], $4::date[], $5::varchar[], $6::smallint[], "
            "$7::smallint[], $8::smallint[], $9::int[], $10::varchar[])",
            batch_id,
            principal.id,
            *[list(column) for column in columns],
        )
        provider_ids = sorted({result.provider_id for result in results})
        await outbox.publish(
            topics.ResultsApplied(batch_id=batch_id, batch_ref=ref, org_id=principal.id, provider_ids=provider_ids)
        )
        batch = await _load(connection, principal.id, batch_id=batch_id)
    log.info(
        "evaluator_batch_applied",
        org=principal.id,
        batch=batch_id,
        source=source,
        rows=len(results),
        providers=len(provider_ids),
    )
    return batch, False


async def _replay(connection, org_id: int, ref: str, digest: str, has_errors: bool) -> BatchRead | None:
    """The saved batch when `ref` was applied before with these results; a conflict when
    with other results; None when `ref` is new."""
    row = await connection.fetchrow(
        "SELECT id, content_hash FROM evaluator_batch WHERE org = $1 AND batch_ref = $2", org_id, ref
    )
    if row is None:
        return None
    if has_errors or row["content_hash"] != digest:
        raise Conflict(
            "This batch ID was used before for other results; a batch is applied once. "
            "Send changed results under a new batch ID.",
            code="batch_reused",
            field="batch_id",
        )
    return await _load(connection, org_id, batch_id=row["id"])


async def _scope_errors(connection, principal: Principal, results: Sequence[Result]) -> list[RowProblem]:
    """Rows naming a provider that does not exist, or one outside the evaluator's subtree."""
    if not results:
        return []
    rows = await connection.fetch(
        "SELECT p.id, n.path FROM provider p JOIN union_node n ON n.id = p.node WHERE p.id = ANY($1::int[])",
        sorted({result.provider_id for result in results}),
    )
    paths = {row["id"]: row["path"] for row in rows}
    errors = []
    for result in results:
        path = paths.get(result.provider_id)
        if path is None:
            errors.append(_unknown_provider(result.row, result.provider_id))
        elif not principal.covers(path):
            errors.append(
                RowProblem(
                    "Provider %(provider)s is outside the area your organisation evaluates.",
                    result.row,
                    "provider_id",
                    "provider_out_of_scope",
                    {"provider": result.provider_id},
                )
            )
    return errors


# Reading ---------------------------------------------------------------------------------------------

_BATCH_SQL = """
SELECT b.id, b.batch_ref, b.source, b.rows, b.received_at, b.applied_at,
       coalesce((SELECT array_agg(DISTINCT r.provider ORDER BY r.provider) FROM evaluator_result r
                 WHERE r.batch = b.id), '{}') AS provider_ids
FROM evaluator_batch b
"""


def _read(row, results=None) -> BatchRead:
    return BatchRead(
        id=row["id"],
        batch_id=row["batch_ref"],
        source=row["source"],
        rows=row["rows"],
        provider_ids=list(row["provider_ids"]),
        received_at=row["received_at"],
        applied_at=row["applied_at"],
        results=results,
    )


async def _load(
    connection, org_id: int, *, batch_id: int | None = None, ref: str | None = None, with_results: bool = False
) -> BatchRead:
    row = await connection.fetchrow(
        _BATCH_SQL + "WHERE b.org = $1 AND (b.id = $2 OR b.batch_ref = $3)", org_id, batch_id, ref
    )
    if row is None:
        raise NotFound("No such batch.", code="batch_not_found")
    results = None
    if with_results:
        records = await connection.fetch(
            "SELECT provider, visit_date, method, score, honoured, service, sample_size, note FROM evaluator_result "
            "WHERE batch = $1 ORDER BY id",
            row["id"],
        )
        results = [
            ResultRead(
                row=number,
                provider_id=r["provider"],
                visit_date=r["visit_date"],
                method=r["method"],
                score=r["score"],
                honoured=r["honoured"],
                service=r["service"],
                sample_size=r["sample_size"],
                note=r["note"],
            )
            for number, r in enumerate(records, start=1)
        ]
    return _read(row, results)


async def get_batch(principal: Principal, *, batch_id: int | None = None, ref: str | None = None) -> BatchRead:
    """One of the organisation's batches with its results, by our id or by the evaluator's."""
    guards.require_evaluator(principal)
    async with engine().transaction() as transaction:
        return await _load(transaction.connection, principal.id, batch_id=batch_id, ref=ref, with_results=True)


async def list_batches(principal: Principal, page: int = 1, page_size: int = 50) -> BatchPage:
    """The organisation's batches, newest first."""
    guards.require_evaluator(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        rows = await connection.fetch(
            _BATCH_SQL + f"WHERE b.org = $1 ORDER BY b.received_at DESC, b.id DESC LIMIT {int(page_size)} "
            f"OFFSET {int((page - 1) * page_size)}",
            principal.id,
        )
        total = await connection.fetchval("SELECT count(*) FROM evaluator_batch WHERE org = $1", principal.id)
    return BatchPage(items=[_read(row) for row in rows], total=total, page=page, page_size=page_size)
