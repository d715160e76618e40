from marketplace.core.db import sql_migration

ID = "2026-12-04T20:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Reference data: the national federation (the root of the tree) and the member groups"

# Rows as they stood when this migration was written (a migration is a snapshot: later
# changes are new migrations). Existing rows are kept: a database seeded before this
# migration already has them. The demo seed adds Beijing, Hebei and their unions below
# the national node (marketplace/seed/).
SQL = """
INSERT INTO union_node (id, parent, level, code, name_zh, name_en, path, depth)
SELECT id, NULL, 'national', 'CN', '中华全国总工会', 'All-China Federation of Trade Unions', '/' || id || '/', 0
FROM (SELECT nextval(pg_get_serial_sequence('union_node', 'id')) AS id) AS reserved
WHERE NOT EXISTS (SELECT 1 FROM union_node WHERE level = 'national');

INSERT INTO member_group (code, name_zh, name_en) VALUES
    ('women', '女职工', 'Women workers'),
    ('gig', '新就业形态劳动者', 'Gig workers'),
    ('migrant', '农民工', 'Migrant workers'),
    ('hardship', '困难职工', 'Workers in hardship'),
    ('model_worker', '劳动模范', 'Model workers'),
    ('veteran', '退役军人', 'Veterans')
ON CONFLICT (code) DO NOTHING;
"""

forwards = sql_migration("marketplace", ID, DESCRIPTION, SQL)
