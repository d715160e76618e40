"""Simplified Chinese by default, English as a switch: gettext catalogs through Babel.

Templates and code carry English msgids. Each package keeps the catalogs of its own
messages (`<package>/translations/<locale>/LC_MESSAGES/messages.po`; the shell's live in
`marketplace/core/web/translations`), so domains do not edit one shared file; each
domain's folder comes from its registration (marketplace/core/domains.py). They are
merged and compiled in memory at start-up: no build step, no stale .mo file. The request's locale lives in a context variable set by
`locale_middleware` from the `lang` cookie.
"""

import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from litestar.types import ASGIApp, Receive, Scope, Send

from marketplace.core import domains
from marketplace.core.identity.middleware import cookie

LOCALES = {"zh_Hans": "简体中文", "en": "English"}
DEFAULT_LOCALE = "zh_Hans"
LANG_COOKIE = "lang"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


def _compile(path: Path, locale: str) -> Translations:
    with path.open("rb") as file:
        catalog = read_po(file, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def translation_dirs() -> dict[str, Path]:
    """package → its translations folder, as the domains registered them
    (marketplace/core/domains.py; a package without messages has none)."""
    return domains.translation_dirs()


@lru_cache
def translations(locale: str) -> Translations:
    """Every registered catalog of `locale`, merged; compiled again after a registration,
    so a domain registered late is not missed."""
    merged: Translations | None = None
    for folder in translation_dirs().values():
        path = folder / locale / "LC_MESSAGES" / "messages.po"
        if path.exists():
            compiled = _compile(path, locale)
            merged = compiled if merged is None else merged.merge(compiled)
    return merged or Translations()


domains.on_change(translations.cache_clear)


def gettext(message: str) -> str:
    return translations(current_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """A msgid whose English word means different things in different places ("Active": a
    provider open for business, a member in the union, a running campaign) is told apart
    by its msgctxt, so each gets its own Chinese: `pgettext("member status", "Active")`."""
    return str(translations(current_locale.get()).pgettext(context, message))


def requested_locale(scope: Scope) -> str:
    locale = cookie(scope, LANG_COOKIE)
    return locale if locale in LOCALES else DEFAULT_LOCALE


def locale_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        token = current_locale.set(requested_locale(scope))
        try:
            await app(scope, receive, send)
        finally:
            current_locale.reset(token)

    return middleware
