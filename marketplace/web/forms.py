"""Reading numbers typed into forms.

`str.isdigit` also accepts digits that `int` refuses ("²") or that PostgreSQL's integer
columns cannot hold, which would turn a typing slip into a 500; pages read ids with
`form_id` instead.
"""

import re

from marketplace.errors import DomainError

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


def form_error(error: DomainError) -> dict[str, str | None]:
    """A domain error for a form page, in the viewer's language: `{"message", "field"}`.

    Templates show it with `ui.field_error(error, name)` beside the field it names and
    `ui.form_alert(error)` above the form; see marketplace/web/templates/_macros.html.
    """
    return {"message": error.translated(), "field": error.field}
