"""Jinja2 environment for the three audiences' pages."""

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from marketplace.core import dates, domains, money
from marketplace.core.identity import permissions
from marketplace.core.web import i18n, large_text, nav, page_counts, portal_badges, security, static_assets, todo

STATIC_DIR = Path(__file__).parent / "static"


def _count(number: int | None) -> str:
    """Points and other counts for people: 2,000."""
    return f"{int(number or 0):,}"


def local_time(moment: datetime | None) -> str | None:
    """A UTC moment in the viewer's zone, to the minute."""
    return dates.local(moment).strftime("%Y-%m-%d %H:%M") if moment else None


# Helpers a domain lends to every template, registered when its pages module is imported
# (as `nav.register`), so the foundation's macros need not import the domain:
#     config.lend("price_of", pricing.price_of)
_lent: dict[str, Any] = {}


def lend(name: str, helper: Any) -> None:
    _lent[name] = helper


def template_dirs() -> list[Path]:
    """The registered domains' template folders (marketplace/core/domains.py), the
    foundation's layouts first. A domain keeps its templates under
    `<package>/templates/<package>/`, so names never collide."""
    return domains.template_dirs()


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(path) for path in template_dirs()]),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    # The method is added by the jinja2.ext.i18n extension, which Jinja's types do not show.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    env.filters["yuan"] = money.yuan
    env.filters["count"] = _count
    env.globals["local"] = local_time
    # Dates (marketplace/core/dates.py): `end | last_day` for "valid until", `time_range(start, end)`
    # for a booked time with its weekday.
    env.filters["day"] = dates.day_text
    env.filters["last_day"] = dates.last_day_text
    env.filters["weekday_day"] = dates.day_with_weekday
    env.globals["time_range"] = dates.time_range
    # What domains lent (see `lend`): catalog's price model for the `ui.price` macro.
    env.globals.update(_lent)
    env.globals["locales"] = i18n.LOCALES
    env.globals["current_locale"] = i18n.current_locale.get
    env.globals["nav_items"] = nav.items
    # Hide the links a role may not open (marketplace/core/identity/permissions.py).
    env.globals["may_open"] = permissions.may_open
    # The request's Content-Security-Policy nonce (marketplace/core/web/security.py) for an inline script.
    env.globals["csp_nonce"] = security.csp_nonce
    # `static("app.css")` → /static/app.css?v=<hash>: cached for a year, renamed on change.
    env.globals["static"] = static_assets.static
    # 长辈模式 (large text): a cookie the member sets on the home page or in 我的.
    env.globals["large_text"] = large_text.enabled
    # Badges and counts of the layouts, counted only for pages (marketplace/core/web/page_counts.py).
    env.globals["page_count"] = page_counts.page_count
    env.globals["todo_counts"] = todo.current
    env.globals["todo_badges"] = todo.current_badges
    env.globals["portal_badges"] = portal_badges.current
    # A fresh Idempotency-Key per rendered form: a double tap or a resubmitted page then
    # repeats nothing (see marketplace/core/idempotency).
    env.globals["one_time_key"] = lambda: secrets.token_urlsafe(16)
    return env


def template_config() -> TemplateConfig:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))
