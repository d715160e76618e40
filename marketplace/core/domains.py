"""The registry of domains: what each package brings to the app, so the foundation and the
shell never list a domain's modules or folders by hand.

Each domain declares itself in its own `domain.py` (the domain shape, docs/architecture.md)
and the shell lists those declarations once (marketplace/composition.py), which registers
them here; the web app, the worker and the scheduler all compose the same way:

    DOMAIN = Domain.at(__file__, "catalog", routes=["catalog.controllers", ...], actors=["catalog.actors"])

Modules (and "module:name" objects) are named, not imported: a declaration costs nothing to load, and each process
imports only what it runs (the worker the actors, the web app the routes). A domain's
templates and translations are its package's `templates/` and `translations/` folders.
"""

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Domain:
    # The package's path from the repository's top with slashes ("catalog/search"): the
    # name its message catalogs go by (`make messages`, tests/test_i18n.py).
    name: str
    templates: tuple[Path, ...] = ()
    translations: Path | None = None
    routes: tuple[str, ...] = ()  # modules exporting one ROUTES list each
    actors: tuple[str, ...] = ()  # modules declaring actors, their topics and periodic jobs
    # What the domain lends to other domains' handlers as a Litestar dependency, by name:
    # {"picture_store": "catalog.services:store_picture"}, so they need not import it.
    provides: tuple[tuple[str, str], ...] = ()
    on_startup: tuple[str, ...] = ()  # "module:function" the web app calls when it starts
    on_shutdown: tuple[str, ...] = ()  # "module:function" the web app awaits when it stops

    @classmethod
    def at(
        cls,
        init_file: str,
        name: str,
        *,
        routes: Iterable[str] = (),
        actors: Iterable[str] = (),
        provides: dict[str, str] | None = None,
        on_startup: Iterable[str] = (),
        on_shutdown: Iterable[str] = (),
    ) -> "Domain":
        """The domain whose package holds `init_file` (a module's `__file__`), with the
        package's `templates/` and `translations/` folders when it has them."""
        folder = Path(init_file).resolve().parent
        templates = folder / "templates"
        translations = folder / "translations"
        return cls(
            name=name,
            templates=(templates,) if templates.is_dir() else (),
            translations=translations if translations.is_dir() else None,
            routes=tuple(routes),
            actors=tuple(actors),
            provides=tuple((provides or {}).items()),
            on_startup=tuple(on_startup),
            on_shutdown=tuple(on_shutdown),
        )


_domains: dict[str, Domain] = {}
# What is computed once from the registrations and must be again after one (i18n's
# merged catalogs): called on every registration.
_on_change: list[Callable[[], object]] = []


def register(domain: Domain) -> None:
    """Add a domain (again: replaced, so composing twice changes nothing)."""
    _domains[domain.name] = domain
    for forget in _on_change:
        forget()


def on_change(forget: Callable[[], object]) -> None:
    _on_change.append(forget)


def registered() -> list[Domain]:
    return list(_domains.values())


def template_dirs() -> list[Path]:
    return [folder for domain in _domains.values() for folder in domain.templates]


def translation_dirs() -> dict[str, Path]:
    return {domain.name: domain.translations for domain in _domains.values() if domain.translations is not None}


def load_actors() -> list[ModuleType]:
    """Import every registered domain's actors modules: they declare the actors, subscribe
    them to their outbox topics and add their periodic jobs. The worker (which runs actors)
    and the scheduler (which relays the outbox and sends periodic jobs) both call this: a
    topic with no subscriber loaded would be relayed to nobody."""
    from marketplace.core.jobs import broker  # noqa: F401  (first: sets the global broker)

    return [importlib.import_module(name) for domain in _domains.values() for name in domain.actors]


def routes() -> list[Any]:
    """Every registered domain's route handlers and controllers."""
    return [
        route
        for domain in _domains.values()
        for name in domain.routes
        for route in importlib.import_module(name).ROUTES
    ]


def _resolve(reference: str) -> Any:
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def provided() -> dict[str, Any]:
    """name → what a domain lends under that name (see `Domain.provides`)."""
    return {name: _resolve(reference) for domain in _domains.values() for name, reference in domain.provides}


def startup_hooks() -> list[Any]:
    return [_resolve(reference) for domain in _domains.values() for reference in domain.on_startup]


def shutdown_hooks() -> list[Any]:
    return [_resolve(reference) for domain in _domains.values() for reference in domain.on_shutdown]
