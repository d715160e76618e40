from marketplace.core.db import sql_migration

ID = "2026-12-03T14:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Inbox messages as a kind with parameters and a link, read when opened"

SQL = """
-- A message's words are the kind's msgids (marketplace/core/notifications.py), filled from params
-- in the reader's language. title and body stay for messages written before, as their text.
ALTER TABLE notification
    ADD COLUMN params jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN link varchar(300),
    ADD COLUMN read_at timestamptz,
    ALTER COLUMN title DROP NOT NULL,
    ALTER COLUMN body DROP NOT NULL;
UPDATE notification SET read_at = created_at WHERE read;
ALTER TABLE notification DROP COLUMN read;
-- The unread badge: a member's unread messages.
CREATE INDEX notification_unread ON notification (member) WHERE read_at IS NULL;
"""

forwards = sql_migration("marketplace", ID, DESCRIPTION, SQL)
