"""CSV in and out, in one place: the one writer every export uses, and the one decoder of
uploaded CSV files (roster imports, evaluators' result batches).

Writing: a spreadsheet runs a cell that starts with `=`, `+`, `-`, `@` (and, in some, a
tab or carriage return) as a formula, so a provider's name or a visitor's text could
run in an operator's Excel (CSV injection). `writer()` prefixes such a cell with `'`,
which spreadsheets show as text; plain numbers (`-12.50`) are left as they are. Files
are UTF-8 with a byte order mark, so Excel reads Chinese, and CRLF line ends.

Reading: `decode_upload` takes UTF-8 with or without a byte order mark or GB18030 (and so
GBK and GB2312: what Excel saves on Chinese Windows), UTF-16 with a mark where the caller
allows it, refuses anything else and anything larger than the caller's limit, before
decoding a byte.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from marketplace.core.errors import RowProblem, fill

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    """A cell no spreadsheet runs as a formula: text starting with a formula character
    gets a leading apostrophe; numbers (and text that is just a number) stay as they are."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS) or _NUMBER.match(value):
        return value
    return "'" + value


class SafeWriter:
    """`csv.writer` with every cell through `safe_cell`."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, lineterminator="\r\n", **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: io.StringIO, **options) -> SafeWriter:
    return SafeWriter(out, **options)


def to_bytes(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> bytes:
    """A whole file: UTF-8 with a byte order mark, the header, then the rows."""
    out = io.StringIO()
    safe = writer(out)
    safe.writerow(header)
    safe.writerows(rows)
    return (BOM + out.getvalue()).encode("utf-8")


class UploadError(ValueError):
    """An uploaded file refused as a whole: an English msgid `message` with `params` and a
    `code` (too_large, encoding); each importer reports it as its file's RowProblem."""

    def __init__(self, message: str, *, code: str, params: dict | None = None):
        self.code, self.message, self.params = code, message, params or {}
        super().__init__(self.text)

    @property
    def text(self) -> str:
        """The English message with its parameters filled in."""
        return fill(self.message, self.params)

    def problem(self) -> RowProblem:
        """The refusal as the problem of the whole file (row 0, field "file")."""
        return RowProblem(self.message, 0, "file", self.code, self.params)


def decode_upload(content: bytes, *, max_bytes: int, utf16: bool = False) -> str:
    """The text of an uploaded CSV file, or UploadError."""
    if len(content) > max_bytes:
        raise UploadError(
            "The file is larger than %(max_mb)s MB; split it.",
            code="too_large",
            params={"max_mb": max(max_bytes // (1024 * 1024), 1)},
        )
    if content.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8",)
        content = content[len(codecs.BOM_UTF8) :]
    elif utf16 and content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # UTF-16 without a mark decodes as GB18030 full of NULs
            return text.removeprefix(BOM)
    raise UploadError(
        'The file is neither UTF-8 nor GB18030 text; save it as "CSV UTF-8" and try again.', code="encoding"
    )


def header_problems(line: int, header: list[str], columns: Iterable[str], required: Iterable[str]) -> list[RowProblem]:
    """What is wrong with an uploaded file's header (its column names, lower-cased), or []:
    the columns it must name, then those it names but should not, lacks, or repeats."""
    columns, required = tuple(columns), tuple(required)
    unknown = ", ".join(name for name in header if name not in columns)[:200]
    missing = ", ".join(name for name in required if name not in header)
    repeated = ", ".join(sorted({name for name in header if header.count(name) > 1}))
    if not (unknown or missing or repeated):
        return []
    params = {"columns": ",".join(columns), "unknown": unknown, "missing": missing, "repeated": repeated}
    row, field, code = line, "header", "wrong_header"
    problems = [RowProblem("The first line must name the columns %(columns)s.", row, field, code, params)]
    if unknown:
        problems.append(RowProblem("Unknown columns: %(names)s.", row, field, code, {"names": unknown}))
    if missing:
        problems.append(RowProblem("Missing columns: %(names)s.", row, field, code, {"names": missing}))
    if repeated:
        problems.append(RowProblem("Repeated columns: %(names)s.", row, field, code, {"names": repeated}))
    return problems
