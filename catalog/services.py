"""Offers: what members browse and providers list. (Search arrives with the search index.)"""

from catalog.tables import Offer

_CARD_SQL = (
    "SELECT o.id, o.kind, o.title_zh, o.title_en, o.list_price_fen, o.member_price_fen, o.subsidy_fen, "
    "o.points_price, o.stock_left, o.status, o.valid_to, c.name_zh AS category_zh, c.name_en AS category_en, "
    "p.name AS provider_name "
    "FROM offer o JOIN category c ON c.id = o.category JOIN provider p ON p.id = o.provider "
)


async def visible_offers(node_path: str | None, groups: tuple[str, ...], limit: int = 20) -> list[dict]:
    """Published offers of active providers that a member of `node_path` in `groups` may
    claim (anonymous visitors: offers open to everyone). Newest first."""
    return await Offer.raw(
        _CARD_SQL
        + "JOIN union_node scope ON scope.id = o.node_scope "
        "WHERE o.status = 'published' AND p.status = 'active' AND o.valid_to > now() "
        "AND (({}::text IS NULL AND scope.depth <= 1) OR {}::text LIKE scope.path || '%') "
        "AND (cardinality(o.groups) = 0 OR o.groups && {}::varchar[]) "
        "ORDER BY o.created_at DESC, o.id DESC LIMIT {}",
        node_path, node_path, list(groups), limit,
    )


async def provider_offers(provider_id: int, limit: int = 50) -> list[dict]:
    return await Offer.raw(
        _CARD_SQL + "WHERE o.provider = {} ORDER BY o.created_at DESC, o.id DESC LIMIT {}",
        provider_id, limit,
    )
