from marketplace.core.db import sql_migration

ID = "2026-11-30T11:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "When a member left and when their personal data were anonymised"

SQL = """
ALTER TABLE member ADD COLUMN IF NOT EXISTS left_at timestamptz,
    ADD COLUMN IF NOT EXISTS anonymised_at timestamptz;

-- Whoever marks a member as left, the retention clock starts then.
CREATE FUNCTION member_left_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'left' AND OLD.status IS DISTINCT FROM 'left' THEN
        NEW.left_at := now();
    ELSIF NEW.status <> 'left' THEN
        NEW.left_at := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER member_left_at BEFORE UPDATE OF status ON member
    FOR EACH ROW EXECUTE FUNCTION member_left_at();
"""

forwards = sql_migration("marketplace", ID, DESCRIPTION, SQL)
