"""Reading numbers typed into forms.

`str.isdigit` also accepts digits that `int` refuses ("²") or that PostgreSQL's integer
columns cannot hold, which would turn a typing slip into a 500; pages read ids with
`form_id` instead.
"""

import re
from collections.abc import Mapping

from marketplace.core.errors import DomainError, Invalid

_DIGITS = re.compile(r"[0-9]{1,19}")
INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1


def form_id(value: str | None, maximum: int = INT4_MAX) -> int | None:
    """A positive whole number in ASCII digits, no larger than `maximum`; None otherwise."""
    text = (value or "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= maximum else None


def form_error(error: DomainError, labels: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """A domain error for a form page, in the viewer's language: `{"message", "field", "label"}`.

    The one way every form page shows a refusal: templates put `ui.field_error(error, name)`
    under the field it names (and `ui.invalid(error, name)` on the input), and
    `ui.form_alert(error, fields)` above the form, which points to the field, by its label
    when `labels` (field name → label msgid, as the form shows it) names it, or says the
    message itself when no field of the form is meant. A page with several forms passes
    the error only to the form that was sent. What was typed is shown again (never a
    password).
    """
    from marketplace.core.web import i18n  # not at import time: i18n reaches into identity, which uses forms

    name = error.field.split(".")[-1].split("[")[0] if error.field else None
    label = i18n.gettext(labels[name]) if labels and name is not None and name in labels else None
    return {"message": error.translated(), "field": error.field, "label": label}


# Hostile input ------------------------------------------------------------------------------------
#
# Every text a request carries (form fields, JSON strings and keys, the query string) passes
# `check_text` once, in the request-parsing layer (marketplace/core/web/requests.py), before any
# handler sees it: control characters (NUL included) and text that is not UTF-8 are refused
# with a 4xx naming the field, so they never reach PostgreSQL (which refuses NUL with a 500)
# or a page. Multi-line fields keep line breaks and tabs. Dates typed or sent are bounded to
# 2000-2100, so no stored window can overflow when a page adds a day to it.

MULTILINE_FIELDS = frozenset(
    {
        "text",
        "rules",
        "reason",
        "explanation",
        "statement",
        "slots",
        "resolution",
        "comment",
        "reply",
        "body",
        "note",
        "notes",
        "message",
        "answer",
        "content",
        "description",
        "terms",
        "address",
        "csv",
    }
)
_LINE_BREAKS = "\t\n\r"
# C0 and C1 controls, DEL, lone surrogates (not UTF-8) and the two non-characters.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ISO_DATE = re.compile(r"(-?\d{4,})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
YEAR_MIN, YEAR_MAX = 2000, 2100
MAX_JSON_DEPTH = 32


class InputRejected(Invalid):
    """A text or date no field may hold; raised by the request-parsing layer."""

    code = "invalid_input"


class InputTooDeep(InputRejected):
    status = 400
    code = "json_too_deep"


def multiline(field: str) -> bool:
    name = field.rsplit(".", 1)[-1].lower()
    return name in MULTILINE_FIELDS or name.removesuffix("_zh").removesuffix("_en") in MULTILINE_FIELDS


def check_text(field: str, value: str) -> str:
    """`value` unchanged, or InputRejected naming `field` (its control character, its date)."""
    pattern = _FORBIDDEN if multiline(field) else _FORBIDDEN_SINGLE_LINE
    if pattern.search(value):
        raise InputRejected(
            "This field contains control characters or text that is not UTF-8; remove them and try again.", field=field
        )
    found = _ISO_DATE.fullmatch(value.strip()) if len(value) <= 40 else None
    if found and not YEAR_MIN <= int(found.group(1)) <= YEAR_MAX and "birth" not in field:
        raise InputRejected(
            "Enter a date between the years %(min)s and %(max)s.",
            field=field,
            params={"min": YEAR_MIN, "max": YEAR_MAX},
        )
    return value


def check_form(pairs) -> None:
    """Every (name, value) of a form; files (non-strings) are checked by their own readers."""
    for name, value in pairs:
        check_text("form", name)
        if isinstance(value, str):
            check_text(name, value)


def check_json(document, limit: int = MAX_JSON_DEPTH) -> None:
    """Every key and string of a decoded JSON document, and how deeply it nests."""
    stack = [(document, "body", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > limit:
            raise InputTooDeep(
                "The JSON body is nested more than %(max)s levels deep.", field=path, params={"max": limit}
            )
        if isinstance(value, str):
            check_text(path, value)
        elif isinstance(value, dict):
            for key, item in value.items():
                check_text(path, key)
                stack.append((item, key if path == "body" else f"{path}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}.{index}", depth + 1) for index, item in enumerate(value))


def decode_form_pairs(body: bytes) -> list[tuple[str, str]]:
    """An urlencoded body, decoded strictly: bytes that are not UTF-8 are refused at their field."""
    from urllib.parse import unquote_to_bytes

    pairs = []
    for chunk in body.split(b"&"):
        if not chunk:
            continue
        raw_name, _, raw_value = chunk.partition(b"=")
        try:
            name = unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise InputRejected(
                "This field contains control characters or text that is not UTF-8; remove them and try again.",
                field="form",
            ) from None
        try:
            value = unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise InputRejected(
                "This field contains control characters or text that is not UTF-8; remove them and try again.",
                field=name[:64],
            ) from None
        pairs.append((name, value))
    return pairs


async def posted_form(request):
    """The form as posted, unchecked: only to show it again beside the error `request.form()`
    raised (never to act on)."""
    return await request.unchecked_form()
