"""Server-side paging for the work lists of the console (and the portal).

A handler reads `?page=` with `page_number`, asks its service for one page of rows and the
total, and hands the template `Pager.of(request, total, page, page_size)`; the template
draws it with `{{ lists.pager(pager) }}` (templates/_lists.html), whose links keep every
other query parameter (search, filters), so an operator stays in the same filtered list.
A second list on the same page pages with a parameter of its own (`param="held_page"`) and
an anchor, so turning its pages keeps the first list where it was.
"""

from collections.abc import Awaitable, Callable, Container, Iterable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from litestar.response import Template

from marketplace.core.errors import DomainError
from marketplace.core.web.forms import form_id

Item = TypeVar("Item")

PAGE_SIZE = 50
MAX_PAGE = 100_000
# What a bulk action adds to the list's address to report back; not part of the list.
TRANSIENT = ("did", "done", "failed")


def page_number(value: str | int | None) -> int:
    """A page number from the query string; anything that is not one is page 1."""
    try:
        number = int(str(value or "1").strip())
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def one_of(value: str | None, choices: Container[str]) -> str:
    """A filter from the query string when it is one of `choices`; otherwise "" (no filter)."""
    return value if value is not None and value in choices else ""


def query_string(params, **changes) -> str:
    """The query with some parameters changed (None drops one), for links and "back" paths."""
    items = [(key, value) for key, value in params.items() if key not in changes]  # multi-dicts keep one value
    items += [(key, value) for key, value in changes.items() if value not in (None, "")]
    return urlencode(items)


@dataclass(frozen=True)
class Pager:
    path: str
    query: dict
    total: int
    page: int
    page_size: int
    param: str = "page"  # the query parameter holding this list's page number
    anchor: str = ""  # where on the page the list is, for a page with more than one list

    @classmethod
    def of(
        cls, request, total: int, page: int, page_size: int = PAGE_SIZE, param: str = "page", anchor: str = ""
    ) -> "Pager":
        """The pager of the list at this request's own address."""
        return cls.at(request.url.path, request.query_params, total, page, page_size, param, anchor)

    @classmethod
    def at(
        cls, path: str, query, total: int, page: int, page_size: int = PAGE_SIZE, param: str = "page", anchor: str = ""
    ) -> "Pager":
        """The pager of the list at `path` with `query`: for a list shown again after a POST,
        whose own address is the form's, not the list's."""
        kept = {key: value for key, value in query.items() if key != param and key not in TRANSIENT and value}
        return cls(path, kept, int(total), page, page_size, param, anchor)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first_row(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.page_size + 1

    @property
    def last_row(self) -> int:
        return min(self.total, self.page * self.page_size)

    def href(self, page: int) -> str:
        query = query_string(self.query, **{self.param: page if page > 1 else None})
        return self.path + (f"?{query}" if query else "") + (f"#{self.anchor}" if self.anchor else "")

    def window(self, size: int = 7) -> list[int | None]:
        """Page numbers to show: first, last and a few around the current one (None: a gap)."""
        last = self.pages
        around = set(range(max(1, self.page - size // 2 + 1), min(last, self.page + size // 2 - 1) + 1))
        shown = sorted({1, last} | around)
        result: list[int | None] = []
        for number in shown:
            if result and number - (result[-1] or 0) > 1:
                result.append(None)
            result.append(number)
        return result

    @property
    def here(self) -> str:
        """This page's own path and query, for a form's "back" field."""
        return self.href(self.page)


# Bulk actions on a list: the form posts `action`, `reason`, `back` (the list's own address) and
# the ticked `ids`; after the work the operator returns to that list, which says how many were done.


def bulk_request(form, prefix: str) -> tuple[str, str, str, list[int]]:
    """A bulk form's action, reason, way back (within `prefix`) and ticked ids (200 at most)."""
    back = form.get("back") or prefix
    if not back.startswith(prefix):
        back = prefix
    ids = sorted({number for raw in form.getall("ids", []) if (number := form_id(raw))})[:200]
    return form.get("action") or "", (form.get("reason") or "").strip(), back, ids


def confirm_fields(action: str | None, back: str, reason: str, ids) -> list[tuple[str, str]]:
    """The hidden fields of a bulk action's confirmation page: the same request again, with
    the ticked ids that are still there."""
    return [("action", action or ""), ("back", back), ("reason", reason)] + [("ids", str(id_)) for id_ in ids]


def bulk_confirm(
    request,
    template_name: str,
    *,
    error: str | None,
    verb: str | None,
    back: str,
    reason: str,
    ids,
    path: str,
    extra_fields: Iterable[tuple[str, str]] = (),
    **context,
) -> Template:
    """A bulk action's confirmation page, or the same page saying why it was refused (422):
    nothing changed yet (the audit log records no action); its form, posted to `path`, sends
    the same request again with the ticked `ids` still there and `confirm=1`."""
    from marketplace.core.audit.middleware import nothing_changed

    nothing_changed(request)
    fields = confirm_fields(verb, back, reason, ids) + list(extra_fields)
    return Template(
        template_name=template_name,
        status_code=422 if error else 200,
        context={
            "back": back,
            "error": error,
            "fields": fields,
            "action": path,
            "verb": verb,
            "reason": reason,
            **context,
        },
    )


async def apply_to_each(items: Iterable[Item], work: Callable[[Item], Awaitable[object]]) -> tuple[int, int]:
    """Do the bulk action on each ticked item, one service call each (so each keeps its own
    rules): how many were done, and how many the service refused."""
    done = failed = 0
    for item in items:
        try:
            await work(item)
            done += 1
        except DomainError:
            failed += 1
    return done, failed


def back_with(back: str, action: str, done: int, failed: int) -> str:
    """The list the operator came from, with how many were done (and failed) for its message."""
    separator = "&" if "?" in back else "?"
    path, _hash, anchor = back.partition("#")
    path = f"{path}{separator}did={action}&done={done}" + (f"&failed={failed}" if failed else "")
    return path + (f"#{anchor}" if anchor else "")


def bulk_outcome(request, actions: tuple[str, ...]) -> dict:
    """What a bulk action reported back in the list's address (did, done, failed)."""
    query = request.query_params
    return {
        "did": query.get("did") if query.get("did") in actions else None,
        "done": page_number(query.get("done")) if query.get("done") else None,
        "failed": page_number(query.get("failed")) if query.get("failed") else None,
    }
