"""Shared funding: how one use's subsidy is split between a campaign's funding nodes, to the fen.

A campaign has one or more shares (`campaign_share`), each a union node with a budget and
a part of every use: a fixed amount in fen, or a percentage (in basis points, 1/100 of a
percent). The rule, pure and deterministic (tested by properties in tests/campaigns):

- Fixed shares take their amount first, in the shares' order, never more than the subsidy
  left; percent shares split what remains by their percentages, which add up to 100 %.
  Every part is whole fen: the floor of its exact value, and the fen left over go one each
  to the largest remainders (ties: the earlier share) — Hamilton's largest-remainder
  method. The parts of one use always add up to the subsidy.
- Policy "stop": when a share's part is more than its budget left, the use is refused
  (the campaign stops paying once any share runs out).
- Policy "cover": a share that cannot pay its part pays what it has left, and the shares
  that still have budget cover the shortfall in proportion to their budget left (largest
  remainder again); refused only when all the budgets left together cannot pay the subsidy.

No share ever pays more than its budget left, in either policy.
"""

from dataclasses import dataclass

FULL_BP = 10_000  # 100 %, in basis points
POLICIES = ("stop", "cover")


@dataclass(frozen=True)
class Share:
    kind: str  # "percent" or "fixed"
    percent_bp: int = 0
    fixed_fen: int = 0
    left_fen: int = 0  # budget left


def apportion(total: int, weights: list[int]) -> list[int]:
    """`total` fen over `weights` (non-negative, not all 0) by largest remainder: whole fen
    that add up to `total`, each within one fen of its exact share."""
    weight = sum(weights)
    if total < 0 or weight <= 0 or min(weights) < 0:
        raise ValueError("apportion needs a non-negative total and positive weights")
    parts = [total * w // weight for w in weights]
    remainders = [total * w % weight for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def split(amount: int, shares: list[Share]) -> list[int]:
    """Each share's part of a use of `amount` fen, budgets aside (see the module's rule)."""
    parts = [0] * len(shares)
    rest = amount
    for i, share in enumerate(shares):
        if share.kind == "fixed":
            parts[i] = min(share.fixed_fen, rest)
            rest -= parts[i]
    percent = [i for i, share in enumerate(shares) if share.kind == "percent"]
    if percent:
        for i, fen in zip(percent, apportion(rest, [shares[i].percent_bp for i in percent]), strict=True):
            parts[i] = fen
    elif rest:
        raise ValueError("fixed shares alone cannot pay this use: a percent share takes the rest")
    return parts


def draw(amount: int, shares: list[Share], policy: str) -> list[int] | None:
    """Each share's part of this use under `policy`, or None when the use cannot be paid."""
    parts = split(amount, shares)
    if policy == "stop":
        return parts if all(part <= share.left_fen for part, share in zip(parts, shares, strict=True)) else None
    if sum(share.left_fen for share in shares) < amount:
        return None
    while True:  # at most one round in practice (capacity weights never overshoot); bounded by len(shares)
        short = 0
        for i, share in enumerate(shares):
            if parts[i] > share.left_fen:
                short += parts[i] - share.left_fen
                parts[i] = share.left_fen
        if short == 0:
            return parts
        open_ = [i for i, share in enumerate(shares) if parts[i] < share.left_fen]
        extra = apportion(short, [shares[i].left_fen - parts[i] for i in open_])
        for i, fen in zip(open_, extra, strict=True):
            parts[i] += fen
