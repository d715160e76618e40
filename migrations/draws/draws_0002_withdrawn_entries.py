from marketplace.core.db import sql_migration

ID = "2026-12-06T01:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Draw entries can be withdrawn while the window is open (and entered again: the same row)"

SQL = """
-- withdrawn: the member took the entry out before the draw; it is not ranked and not in
-- the published result. Entering again sets the same row back to 'entered'.
ALTER TABLE draw_entry DROP CONSTRAINT draw_entry_status_check;
ALTER TABLE draw_entry ADD CONSTRAINT draw_entry_status_check
    CHECK (status IN ('entered', 'withdrawn', 'offered', 'waitlisted', 'claimed', 'lapsed', 'declined'));
"""

forwards = sql_migration("draws", ID, DESCRIPTION, SQL)
