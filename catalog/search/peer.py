"""A PostgreSQL-only search, as Saleor searches products, to compare ours against.

Saleor keeps a weighted `search_vector` per product (name A, then attributes and
description) queried with `websearch_to_tsquery`, ranked by `ts_rank`, with trigram
similarity on the name for typos. The same here, with the 'simple' configuration
(PostgreSQL ships no Chinese parser) and a substring match on titles and tags, which is
how a PostgreSQL shop without a Chinese extension finds Chinese words. No pinyin, no
synonyms, no traditional characters: what a plain database search does. The vector is
computed per query, which is fine on the relevance catalogue it is used on.
"""

from catalog.tables import Offer

_SQL = """
WITH q AS (SELECT websearch_to_tsquery('simple', {}) AS tsq, {}::text AS raw),
doc AS (
    SELECT o.id, o.created_at,
           o.title_zh || ' ' || coalesce(o.title_en, '') AS title,
           setweight(to_tsvector('simple', o.title_zh || ' ' || coalesce(o.title_en, '')), 'A')
           || setweight(to_tsvector('simple', array_to_string(o.tags, ' ') || ' ' || c.name_zh || ' ' || c.name_en
                                    || ' ' || p.name), 'B')
           || setweight(to_tsvector('simple', coalesce(o.description_zh, '') || ' '
                                    || coalesce(o.description_en, '')), 'C') AS vector,
           array_to_string(o.tags, ' ') AS tags
    FROM offer o JOIN category c ON c.id = o.category JOIN provider p ON p.id = o.provider
    WHERE o.status = 'published' AND p.status = 'active' AND o.valid_to > now()
)
SELECT doc.id, ts_rank(doc.vector, q.tsq) + similarity(doc.title, q.raw)
       + CASE WHEN doc.title ILIKE '%' || q.raw || '%' THEN 0.5 ELSE 0 END AS score
FROM doc, q
WHERE doc.vector @@ q.tsq OR doc.title % q.raw OR doc.title ILIKE '%' || q.raw || '%'
   OR doc.tags ILIKE '%' || q.raw || '%'
ORDER BY score DESC, doc.created_at DESC, doc.id
LIMIT {}
"""


async def search_ids(q: str, limit: int = 10) -> list[int]:
    query = " ".join(q.split()).lower()
    if not query:
        return []
    rows = await Offer.raw(_SQL, query, query, limit)
    return [row["id"] for row in rows]
