from marketplace.core.db import sql_migration

ID = "2026-12-04T22:20:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Tell every web process, at commit, which cached member sessions no longer hold"

# marketplace/core/identity/session_cache.py listens on `session_revoked`. Messages: "s:<token
# hash>" (a member's session row gone), "m:<member id>" (what a member's principal holds
# changed: name, node, groups, status; or the member row gone), "*" (drop everything: a
# node's path changed, a table truncated, or a statement touching more than 100 of them).
# Statement-level triggers, so a bulk change costs one message, not one per row.
SQL = """
CREATE FUNCTION notify_member_sessions_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM gone WHERE principal_kind = 'member') > 100 THEN
        PERFORM pg_notify('session_revoked', '*');
    ELSE
        PERFORM pg_notify('session_revoked', 's:' || token_hash) FROM gone WHERE principal_kind = 'member';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION notify_members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(o.id) INTO changed FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.name, o.node, o.groups, o.status) IS DISTINCT FROM (n.name, n.node, n.groups, n.status);
    ELSE
        SELECT array_agg(id) INTO changed FROM old_rows;
    END IF;
    IF cardinality(changed) > 100 THEN
        PERFORM pg_notify('session_revoked', '*');
    ELSIF changed IS NOT NULL THEN
        PERFORM pg_notify('session_revoked', 'm:' || id) FROM unnest(changed) AS id;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION notify_all_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('session_revoked', '*');
    RETURN NULL;
END $$;

CREATE TRIGGER auth_session_revoked AFTER DELETE ON auth_session
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION notify_member_sessions_gone();
CREATE TRIGGER auth_session_truncated AFTER TRUNCATE ON auth_session
    FOR EACH STATEMENT EXECUTE FUNCTION notify_all_sessions();
CREATE TRIGGER member_changed_sessions AFTER UPDATE ON member
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_members_changed();
CREATE TRIGGER member_deleted_sessions AFTER DELETE ON member
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_members_changed();
CREATE TRIGGER member_truncated_sessions AFTER TRUNCATE ON member
    FOR EACH STATEMENT EXECUTE FUNCTION notify_all_sessions();
CREATE TRIGGER union_node_moved_sessions AFTER UPDATE OF path ON union_node
    FOR EACH STATEMENT EXECUTE FUNCTION notify_all_sessions();
CREATE TRIGGER union_node_truncated_sessions AFTER TRUNCATE ON union_node
    FOR EACH STATEMENT EXECUTE FUNCTION notify_all_sessions();
"""

forwards = sql_migration("marketplace", ID, DESCRIPTION, SQL)
