"""Draws as the JSON API reads and writes them (/api/v1/draws, /api/v1/console/draws)."""

from datetime import datetime
from typing import Annotated, Any

import msgspec

Moment = Annotated[datetime, msgspec.Meta(tz=True)]  # with its offset: 2026-12-05T20:00:00+08:00
GroupCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class DrawInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A draw of a published offer of your scope (a free voucher or a points offer)."""

    offer_id: Annotated[int, msgspec.Meta(gt=0, le=2**63 - 1)]
    opens_at: Moment
    closes_at: Moment
    places: Annotated[int, msgspec.Meta(ge=1, le=10**6)]
    claim_hours: Annotated[int, msgspec.Meta(ge=1, le=10**6)] = 48  # how long a place offered is held
    # member group code → weight 2..10 (a group left out, or 1, has the ordinary chance)
    weights: Annotated[dict[GroupCode, int], msgspec.Meta(max_length=50)] = {}


class RunInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Running a draw cannot be undone: the API asks the page's confirmation, explicitly."""

    confirm: bool


class DrawRead(msgspec.Struct, kw_only=True):
    id: int
    offer_id: int
    offer_title_zh: str
    offer_title_en: str
    node_id: int
    node_name_zh: str
    node_name_en: str
    opens_at: datetime
    closes_at: datetime
    places: int
    claim_hours: int
    weights: dict[str, int]
    status: str  # open | drawn
    phase: str  # upcoming | open | closed (draw pending) | drawn
    seed_hash: str  # published from the start
    seed: str | None  # revealed once drawn
    drawn_at: datetime | None
    notice_until: datetime | None  # masked names shown on the 公示 until then (the node's policy)
    entry_count: int | None  # entries standing (withdrawn ones not counted)
    result_url: str


class DrawConsoleRead(DrawRead, kw_only=True):
    by_status: dict[str, int]  # entries by state: entered, withdrawn, offered, waitlisted, claimed, ...


class EntryRead(msgspec.Struct, kw_only=True):
    draw_id: int
    ticket: int
    weight: int
    status: str  # entered | withdrawn | offered | waitlisted | claimed | lapsed | declined
    rank: int | None
    offered_until: datetime | None  # when offered: claim by then
    waiting_position: int | None  # when waitlisted: 1 is next
    voucher_id: int | None  # when claimed


class MyDrawRead(DrawRead, kw_only=True):
    entry: EntryRead | None  # yours, if you entered


class DrawResult(msgspec.Struct, kw_only=True):
    """Everything needed to recompute the draw, no names (the same as /draws/{id}/result.json)."""

    draw: int
    algorithm: str
    seed_hash: str
    seed: str | None
    places: int
    weights: dict[str, int]
    entries: list[tuple[str, int]]  # [ticket, weight]
    order: list[str] | None


def draw_fields(draw: dict) -> dict[str, Any]:
    """A draw as services give it (get_draw's dict), in DrawRead's fields."""
    return dict(
        id=draw["id"],
        offer_id=draw["offer"],
        offer_title_zh=draw["title_zh"],
        offer_title_en=draw["title_en"] or "",
        node_id=draw["node"],
        node_name_zh=draw["node_name_zh"],
        node_name_en=draw["node_name_en"] or "",
        opens_at=draw["opens_at"],
        closes_at=draw["closes_at"],
        places=draw["places"],
        claim_hours=draw["claim_hours"],
        weights={str(group): int(weight) for group, weight in draw["weights"].items()},
        status=draw["status"],
        phase=draw["phase"],
        seed_hash=draw["seed_hash"],
        seed=draw["seed"],
        drawn_at=draw["drawn_at"],
        notice_until=draw["notice_until"],
        entry_count=draw["entry_count"],
        result_url=f"/api/v1/draws/{draw['id']}/result",
    )


def entry_read(draw_id: int, entry: dict) -> EntryRead:
    return EntryRead(
        draw_id=draw_id,
        ticket=entry["ticket"],
        weight=entry["weight"],
        status=entry["status"],
        rank=entry["rank"],
        offered_until=entry["offered_until"],
        waiting_position=entry["waiting_position"] if entry["status"] == "waitlisted" else None,
        voucher_id=entry["voucher"],
    )
