from marketplace.core.db import sql_migration

ID = "2026-12-06T00:45:00:000001"
VERSION = "1.38.0"
DESCRIPTION = (
    "What an offer's cover picture takes in the media store, kept at upload, so the picture "
    "quota is one query instead of a call to the store per picture (null: measured once)"
)

SQL = """
ALTER TABLE offer ADD COLUMN cover_image_bytes integer;
"""

forwards = sql_migration("catalog", ID, DESCRIPTION, SQL)
