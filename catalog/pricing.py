"""The one price model: what an offer costs a member, wherever it is shown or charged.

An offer carries a list price (what anyone pays), a member price (what the provider
receives for a member) and the union's subsidy per use, which the union pays the provider
(settlements). The member pays the rest:

    pays = member price − union subsidy

online for a paid offer (the PaymentIntent's amount), at the counter for a discount
voucher or a booking. A points offer costs its points, plus that cash part when it has
one. The search card, the offer page, its button, the pay page, the voucher and the
receipt all show `price(...)`, through the `ui.price` macro, so they show one number.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Price:
    kind: str  # voucher, paid, points, slot
    list_fen: int
    subsidy_fen: int
    pays_fen: int  # the member's cash: online for `paid`, at the counter otherwise
    points: int | None = None  # what a points offer costs

    @property
    def free(self) -> bool:
        """Nothing to pay in money or points."""
        return self.pays_fen == 0 and not self.points

    @property
    def discount_fen(self) -> int:
        """The provider's own discount for members: list price less member price (points
        offers have none: their price is in points)."""
        if self.points:
            return 0
        return max(self.list_fen - self.pays_fen - self.subsidy_fen, 0)

    @property
    def struck_fen(self) -> int | None:
        """The list price to strike through beside what the member pays, when it is higher."""
        return self.list_fen if self.list_fen > self.pays_fen else None


def member_pays_fen(member_price_fen: int, subsidy_fen: int) -> int:
    """The member price less the union's subsidy, in fen (never below zero)."""
    return max(int(member_price_fen) - int(subsidy_fen), 0)


def price(
    kind: str,
    list_price_fen: int,
    member_price_fen: int,
    subsidy_fen: int,
    points_price: int | None = None,
    *,
    paid_fen: int | None = None,
) -> Price:
    """`paid_fen`: what a paid voucher was actually charged; the record wins over the
    offer's price today, which its provider may have changed since."""
    pays = paid_fen if paid_fen is not None else member_pays_fen(member_price_fen, subsidy_fen)
    return Price(
        kind=kind,
        list_fen=int(list_price_fen),
        subsidy_fen=int(subsidy_fen),
        pays_fen=int(pays),
        points=points_price if kind == "points" else None,
    )


def price_of(offer: Mapping[str, Any] | Any) -> Price:
    """The price of an offer row, search hit or any object with the offer's price fields."""
    get: Callable[..., Any] = (
        offer.get if isinstance(offer, Mapping) else lambda name, default=None: getattr(offer, name, default)
    )
    return price(
        get("kind"),
        get("list_price_fen") or 0,
        get("member_price_fen") or 0,
        get("subsidy_fen") or 0,
        get("points_price"),
    )
