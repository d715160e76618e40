"""The side navigation of the provider portal and the operator console.

Each domain adds the pages it owns when its pages module is imported, so the shared
layouts never need editing:

    nav.register("console", "providers", N_("Providers"), "/console/providers", "store", position=20)

Labels are English msgids, translated when the layout renders them; `N_` marks them for
extraction without translating at import time.
"""

from dataclasses import dataclass

AREAS = ("provider", "console")


def N_(message: str) -> str:
    return message


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    href: str
    icon: str
    position: int
    owner_only: bool = False  # provider portal: hidden from front-desk staff


_items: dict[str, dict[str, NavItem]] = {area: {} for area in AREAS}


def register(area: str, key: str, label: str, href: str, icon: str, *, position: int, owner_only: bool = False) -> None:
    _items[area][key] = NavItem(key, label, href, icon, position, owner_only)


def items(area: str) -> list[NavItem]:
    return sorted(_items[area].values(), key=lambda item: item.position)


register("provider", "overview", N_("Overview"), "/provider/", "grid", position=0)
register("console", "scope", N_("Home"), "/console/", "grid", position=0)
