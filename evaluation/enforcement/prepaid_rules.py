"""The prepaid section of the published enforcement policy (issue 17, Prepaid Guard).

`prepaid_rules(node_id)` is the section in force at a union node (its own latest policy
version, or the nearest above it; the defaults of policy.DEFAULT_RULES, from Shanghai's rule,
where none was published or a version predates prepaid packages). `package_violations`
names each cap a package breaks, in words a provider and an operator read (a translatable
msgid with its figures), so listing approval and the purchase can say which rule refused.
"""

from dataclasses import dataclass, field
from typing import Any

from catalog import services as catalog
from evaluation.enforcement import policy
from marketplace.core.errors import Invalid
from marketplace.core.web.i18n import gettext as _
from marketplace.core.web.nav import N_


@dataclass(frozen=True)
class Violation:
    """One cap a package breaks: `rule` the key in the prepaid section, `message` an English
    msgid with `%(x)s` placeholders filled from `params` (figures in yuan, sessions, months)."""

    rule: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The message in the request's language (Chinese by default)."""
        return _(self.message) % self.params


def effective(rules: dict | None) -> dict:
    """A stored prepaid section completed by the defaults (versions published before
    prepaid packages have none)."""
    return {**policy.DEFAULT_RULES["prepaid"], **(rules or {})}


async def prepaid_rules(node_id: int) -> dict:
    """The prepaid section in force at the node (an offer's provider node)."""
    current = await policy.policy_of_node(node_id)
    return effective(current["rules"].get("prepaid"))


async def prepaid_rules_of_provider(connection, provider_id: int) -> dict:
    """The prepaid section the provider is held to, read in the caller's transaction."""
    _id, _version, rules = await policy.policy_in_force(connection, provider_id)
    return effective(rules.get("prepaid"))


def yuan(fen: int) -> str:
    """Fen as yuan for a message: ¥5,000 or ¥5,000.50."""
    whole, cents = divmod(fen, 100)
    return f"¥{whole:,}" + (f".{cents:02d}" if cents else "")


def package_violations(rules: dict, *, price_fen: int, sessions: int | None, months: int | None) -> list[Violation]:
    """The caps a prepaid package breaks. `sessions` None is a period membership (unlimited
    visits for `months`), capped by price and months; a class package by price and sessions
    (and by the membership's months, the longest validity the rule allows). No validity is a
    violation too: a prepaid package must end."""
    rules = effective(rules)
    found: list[Violation] = []
    membership = sessions is None
    price_cap = rules["membership_max_fen"] if membership else rules["package_max_fen"]
    if price_fen > price_cap:
        found.append(
            Violation(
                "membership_max_fen" if membership else "package_max_fen",
                N_("A period membership may cost at most %(cap)s (this one: %(price)s).")
                if membership
                else N_("A class package may cost at most %(cap)s (this one: %(price)s)."),
                {"cap": yuan(price_cap), "price": yuan(price_fen)},
            )
        )
    if not membership and sessions is not None and sessions > rules["package_max_sessions"]:
        found.append(
            Violation(
                "package_max_sessions",
                N_("A class package may hold at most %(cap)s sessions (this one: %(sessions)s)."),
                {"cap": rules["package_max_sessions"], "sessions": sessions},
            )
        )
    if months is None or months < 1:
        found.append(Violation("membership_max_months", N_("Give the package's validity in months."), {}))
    elif months > rules["membership_max_months"]:
        found.append(
            Violation(
                "membership_max_months",
                N_("A prepaid package may be valid for at most %(cap)s months (this one: %(months)s)."),
                {"cap": rules["membership_max_months"], "months": months},
            )
        )
    if price_fen > rules["member_total_max_fen"]:
        found.append(
            Violation(
                "member_total_max_fen",
                N_("A member may hold at most %(cap)s in prepaid packages in all (this one: %(price)s)."),
                {"cap": yuan(rules["member_total_max_fen"]), "price": yuan(price_fen)},
            )
        )
    return found


# Listing approval ---------------------------------------------------------------------------------


async def check_listing(connection, offer: dict) -> None:
    """Catalog's listing check (catalog.services.register_listing_check): a prepaid package
    outside the caps of the policy its provider is held to is refused, naming the first
    broken rule in the message and every one in `violations`."""
    if offer.get("kind") != "prepaid":
        return
    rules = await prepaid_rules_of_provider(connection, offer["provider"])
    violations = package_violations(
        rules,
        price_fen=offer.get("list_price_fen") or 0,
        sessions=offer.get("package_sessions"),
        months=offer.get("package_months"),
    )
    if violations:
        first = violations[0]
        raise Invalid(
            first.message,
            code="prepaid_outside_caps",
            params=first.params,
            rule=first.rule,
            violations=[
                {"rule": violation.rule, "detail": violation.message % violation.params} for violation in violations
            ],
        )


catalog.register_listing_check(check_listing)
