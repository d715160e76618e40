from marketplace.core.db import sql_migration

ID = "2026-12-05T12:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Reference data: the offer categories"

# Rows as they stood when this migration was written (a migration is a snapshot: later
# changes are new migrations). Existing rows are kept: a database seeded before this
# migration already has them.
SQL = """
INSERT INTO category (code, name_zh, name_en) VALUES
    ('fitness', '健身运动', 'Fitness'),
    ('health_checkup', '健康体检', 'Health checkups'),
    ('medical', '医疗服务', 'Medical care'),
    ('dining', '餐饮美食', 'Dining'),
    ('cinema', '电影演出', 'Cinema and shows'),
    ('training', '技能培训', 'Skills training'),
    ('shopping', '购物', 'Shopping'),
    ('travel', '出行', 'Travel and transport'),
    ('childcare', '托育服务', 'Childcare'),
    ('housekeeping', '家政服务', 'Home services'),
    ('leisure', '休闲旅游', 'Leisure and tourism'),
    ('legal', '法律咨询', 'Legal advice')
ON CONFLICT (code) DO NOTHING;
"""

forwards = sql_migration("catalog", ID, DESCRIPTION, SQL)
