from marketplace.core.db import sql_migration

ID = "2026-11-30T10:20:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "The audit log: who did what, and who read whose personal data (append-only)"

SQL = """
CREATE TABLE audit_event (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor_kind varchar(16) NOT NULL CHECK (actor_kind IN ('member', 'provider', 'operator', 'evaluator', 'system')),
    actor_id bigint,
    action varchar(64) NOT NULL,
    subject_kind varchar(32) NOT NULL,
    subject_id bigint,
    reason text,
    details jsonb NOT NULL DEFAULT '{}',
    -- The actor's scope: an operator reads the events of their subtree.
    node_path varchar(255)
);
CREATE INDEX audit_event_subject ON audit_event (subject_kind, subject_id, at);
CREATE INDEX audit_event_action_time ON audit_event (action, at);
CREATE INDEX audit_event_node_path ON audit_event (node_path text_pattern_ops, at);

-- Append-only: a record of access is never rewritten or removed by the application.
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only';
END $$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""

forwards = sql_migration("marketplace", ID, DESCRIPTION, SQL)
