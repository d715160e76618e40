"""The draw itself: a documented, deterministic function of (seed, entries), nothing else.

Commit and reveal. When a draw is created a random seed of 32 bytes is made (`new_seed`,
64 lowercase hex characters) and only its SHA-256 (`seed_hash`: the hash of the seed's
64 ASCII characters, in hex) is published on the draw's page, before entries open. The
seed itself is revealed when the draw is run, after entries close; anyone can check
that it is the one committed to.

The order. Every entry has a public ticket number (its key, a decimal string) and a
weight (a whole number from 1 to 10: 1, or the highest weight the node gave to a member
group the member belongs to, published with the draw). For each entry:

    mac   = HMAC-SHA256(key = seed as ASCII, message = ticket as ASCII)
    n     = the first 6 bytes of mac as a big-endian integer (0 ≤ n < 2^48)
    u     = (n + 0.5) / 2^48                      (exact in IEEE double, 0 < u < 1)
    score = ln(u) / weight                        (Efraimidis–Spirakis: the log of u^(1/w))

Entries are ordered by score, highest first (ties, which do not happen in practice, by
mac in hex, then ticket). The first `places` entries win; the rest form the waitlist,
in that order. A weight-w entry is as likely to be ahead of a weight-1 entry as w
weight-1 entries together (weighted sampling without replacement).

The same function runs in `benefits draw verify` and, in JavaScript (WebCrypto), on the
draw's public page (/static/draws/verify.js); tests/draws check that both agree.

What it does not protect against: whoever holds the seed before the draw (the platform)
could add entries of its own to shift the order; entries are members only, one each, and
the whole entry list is published, so such entries would show.
"""

import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from typing import NamedTuple

MAX_WEIGHT = 10
_SCALE = float(2**48)


def new_seed() -> str:
    return secrets.token_hex(32)


def seed_hash(seed: str) -> str:
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def mac(seed: str, ticket: str) -> bytes:
    return hmac.digest(seed.encode("ascii"), ticket.encode("ascii"), "sha256")


def score(digest: bytes, weight: int) -> float:
    u = (int.from_bytes(digest[:6], "big") + 0.5) / _SCALE
    return math.log(u) / weight


class Ranked(NamedTuple):
    ticket: str
    weight: int
    digest: bytes
    score: float
    rank: int  # 1-based

    @property
    def mac_hex(self) -> str:
        return self.digest.hex()


def order(seed: str, entries: Iterable[tuple[str, int]]) -> list[Ranked]:
    """Every (ticket, weight) in the draw's order, first first. Input order does not matter."""
    key = seed.encode("ascii")
    scored = []
    for ticket, weight in entries:
        if not 1 <= weight <= MAX_WEIGHT:
            raise ValueError(f"weight {weight} of ticket {ticket} is outside 1..{MAX_WEIGHT}")
        digest = hmac.digest(key, ticket.encode("ascii"), "sha256")
        # Highest score first; ties by the mac (bytes sort as their hex does), then the ticket.
        scored.append((-math.log((int.from_bytes(digest[:6], "big") + 0.5) / _SCALE) / weight, digest, ticket, weight))
    scored.sort()
    return [
        Ranked(ticket, weight, digest, -negative, rank)
        for rank, (negative, digest, ticket, weight) in enumerate(scored, start=1)
    ]


def split(ranked: list[Ranked], places: int) -> tuple[list[Ranked], list[Ranked]]:
    """Winners (the first `places`) and the waitlist (the rest, in order)."""
    return ranked[:places], ranked[places:]
