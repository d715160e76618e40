"""Reading a roster file and checking its rows; no database here (services.py runs an
import, matching.py matches the checked rows against the members already there).

`parse` reads the file (UTF-8 or GB18030, a header of the COLUMNS in any order, Chinese
headers too) and yields its rows; `check_rows` checks each row on its own and against the
earlier rows of the file. Problems are RowErrors, numbered by the file's lines.
"""

import csv
import dataclasses
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date

from marketplace.core import csvfiles
from marketplace.core.errors import RowProblem
from marketplace.core.web.nav import N_

RowError = RowProblem  # a roster's problems are the row problems every upload reports

COLUMNS = ("name", "phone", "id_number", "node", "groups")
# The template's Chinese headers (and common variants people type) for each column.
# The columns in words, for the import's row problems (身份证号（id_number）).
COLUMN_NAMES = {
    "name": N_("Name"),
    "phone": N_("Phone"),
    "id_number": N_("ID number"),
    "node": N_("Union code"),
    "groups": N_("Member groups"),
}
CHINESE_HEADERS = {"name": "姓名", "phone": "手机号", "id_number": "身份证号", "node": "工会代码", "groups": "会员群体"}
HEADER_ALIASES = {
    **{zh: column for column, zh in CHINESE_HEADERS.items()},
    "手机号码": "phone",
    "手机": "phone",
    "身份证号码": "id_number",
    "身份证": "id_number",
    "所属工会代码": "node",
    "基层工会代码": "node",
    "工会编码": "node",
    "群体": "groups",
}


def template_csv() -> bytes:
    """The file operators fill in: the Chinese headers and one example row (UTF-8 with a BOM,
    so that Excel opens it in the right encoding)."""
    header = ",".join(CHINESE_HEADERS[column] for column in COLUMNS)
    body = "11010519900101123"
    example = f"张伟,13800138000,{body}{check_character(body)},110105-001,女职工;新就业形态劳动者"
    return ("\ufeff" + header + "\r\n" + example + "\r\n").encode()


MAX_ERRORS = 1000  # kept and shown at most; error_count says how many there were
MAX_NAME = 50
MIN_AGE, MAX_AGE = 16, 100

_PHONE = re.compile(r"^1[3-9]\d{9}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643
_CHECK = "10X98765432"


class RosterRejected(Exception):
    """The file has problems; nothing of it was applied."""

    def __init__(self, errors: list[RowError], count: int | None = None):
        super().__init__(f"{count or len(errors)} problem(s) in the roster file; nothing was applied.")
        self.errors = sorted(errors, key=lambda error: error.row)[:MAX_ERRORS]
        self.count = count if count is not None else len(errors)


# Checking rows --------------------------------------------------------------------------------------------


def check_character(first17: str) -> str:
    return _CHECK[sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True)) % 11]


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

    rows: list[int] = dataclasses.field(default_factory=list)
    names: list[str] = dataclasses.field(default_factory=list)
    phones: list[str] = dataclasses.field(default_factory=list)
    id_numbers: list[str] = dataclasses.field(default_factory=list)
    nodes: list[int] = dataclasses.field(default_factory=list)
    groups: list[list[str]] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)


def check_rows(
    entries,
    nodes: dict[str, Node],
    scope_path: str,
    group_codes: set[str] | dict[str, str],
    today: date,
    checked: Checked,
    errors: list[RowError],
    seen_ids: dict[str, int],
    seen_phones: dict[str, int],
) -> None:
    """Check `entries` ((line, cells in COLUMNS order) pairs), appending to `checked` and
    `errors`; `seen_*` carry the first row of each ID number and phone across chunks."""
    phone_ok, id_ok = _PHONE.match, _ID_NUMBER.match
    add = errors.append
    for line, (name, phone, id_number, node_code, group_text) in entries:
        problems = len(errors)
        name = name.strip()
        if not name:
            add(RowProblem("The name is required.", line, "name", "name_required"))
        elif len(name) > MAX_NAME:
            add(
                RowProblem(
                    "The name must be at most %(max)s characters.", line, "name", "name_too_long", {"max": MAX_NAME}
                )
            )
        phone = phone.strip()
        if not phone_ok(phone):
            add(RowProblem("The phone must be a mainland mobile number of 11 digits.", line, "phone", "bad_phone"))
        id_number = id_number.strip().upper()
        if not id_ok(id_number):
            add(
                RowProblem(
                    "The ID number must be 17 digits followed by a digit or X.", line, "id_number", "bad_id_number"
                )
            )
        elif check_character(id_number[:17]) != id_number[17]:
            add(
                RowProblem(
                    "The ID number's check character does not match (GB 11643).", line, "id_number", "bad_checksum"
                )
            )
        else:
            problem = birth_date_problem(id_number, today)
            if problem:
                add(
                    RowProblem(
                        "The birth date in the ID number is not plausible (a real date, age 16 to 100).",
                        line,
                        "id_number",
                        "bad_birth_date",
                        {"problem": problem},
                    )
                )
        node_code = node_code.strip()
        node = nodes.get(node_code)
        if node is None:
            add(
                RowProblem(
                    "There is no union with the code %(code)s.", line, "node", "unknown_node", {"code": node_code[:40]}
                )
            )
        elif not node.path.startswith(scope_path):
            add(
                RowProblem(
                    "Union %(code)s is outside your scope.", line, "node", "node_out_of_scope", {"code": node_code}
                )
            )
        elif node.level != "grassroots":
            add(
                RowProblem(
                    "Union %(code)s is not a grassroots union; members belong to one.",
                    line,
                    "node",
                    "not_grassroots",
                    {"code": node_code},
                )
            )
        # Groups by code or by name (女职工), separated by ; or the Chinese ；、
        parts = (part.strip() for part in group_text.replace("；", ";").replace("、", ";").split(";"))
        groups = [group_codes.get(code, code) if isinstance(group_codes, dict) else code for code in parts if code]
        unknown = [code for code in groups if code not in group_codes]
        if unknown:
            names = ", ".join(code[:32] for code in unknown)
            add(RowProblem("Unknown member groups: %(codes)s.", line, "groups", "unknown_group", {"codes": names}))
        if id_ok(id_number):
            first = seen_ids.setdefault(id_number, line)
            if first != line:
                add(
                    RowProblem(
                        "Repeats the ID number of row %(first)s.",
                        line,
                        "id_number",
                        "duplicate_id_number",
                        {"first": first},
                    )
                )
        if phone_ok(phone):
            first = seen_phones.setdefault(phone, line)
            if first != line:
                add(
                    RowProblem(
                        "Repeats the phone of row %(first)s.", line, "phone", "duplicate_phone", {"first": first}
                    )
                )
        if len(errors) == problems:
            checked.rows.append(line)
            checked.names.append(name)
            checked.phones.append(phone)
            checked.id_numbers.append(id_number)
            assert node is not None  # a row without errors has a known node
            checked.nodes.append(node.id)
            checked.groups.append(sorted(set(groups)))


# The file -------------------------------------------------------------------------------------------------

MAX_BYTES = 256 * 1024 * 1024  # a million members is about 60 MB of CSV


def decode(content: bytes) -> str:
    """The file's text (marketplace/core/csvfiles.py: UTF-8 with or without a byte-order mark,
    or GB18030); anything else, or a file over MAX_BYTES, is refused."""
    try:
        return csvfiles.decode_upload(content, max_bytes=MAX_BYTES)
    except csvfiles.UploadError as error:
        raise RosterRejected([error.problem()]) from None


def _empty_file() -> RowProblem:
    return RowProblem("The file is empty.", 0, "file", "empty_file")


def parse(content: bytes):
    """(line, [name, phone, id_number, node, groups]) of each data row, lazily; the file's
    shape problems (encoding, empty, header, column counts, broken quoting) as RosterRejected.
    Blank lines are skipped."""
    text = decode(content)
    if not text.strip():
        raise RosterRejected([_empty_file()])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = None
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                header = [cell.strip().lower().lstrip("\ufeff") for cell in cells]
                header = [HEADER_ALIASES.get(name, name) for name in header]
                break
    except csv.Error as error:
        raise RosterRejected(
            [
                RowProblem(
                    "The file is not valid CSV near line %(line)s.",
                    reader.line_num,
                    "file",
                    "malformed_csv",
                    {"line": reader.line_num, "problem": str(error)},
                )
            ]
        ) from error
    if header is None:
        raise RosterRejected([_empty_file()])
    problems = csvfiles.header_problems(reader.line_num, header, COLUMNS, COLUMNS)
    if problems:
        # The roster's own first sentence: the template's Chinese headers are what most files have.
        first = problems[0]
        problems[0] = RowProblem(
            "The first line must name the columns %(chinese)s (or, in English, %(columns)s).",
            first.row,
            first.field,
            first.code,
            {**first.params, "chinese": ",".join(CHINESE_HEADERS[column] for column in COLUMNS)},
        )
        raise RosterRejected(problems)
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
