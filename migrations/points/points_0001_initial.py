from marketplace.core.db import sql_migration

ID = "2026-11-30T09:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Points: the append-only ledger, its lots, the cached balance and bulk grants"

SQL = """
CREATE TABLE points_grant (
    id bigserial PRIMARY KEY,
    node integer NOT NULL REFERENCES union_node (id),
    member_group varchar(32) REFERENCES member_group (code),
    amount integer NOT NULL CHECK (amount > 0),
    reason text NOT NULL,
    operator integer NOT NULL REFERENCES operator (id),
    status varchar(16) NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done')),
    members_total integer NOT NULL DEFAULT 0,
    members_done integer NOT NULL DEFAULT 0,
    last_member bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    finished_at timestamptz
);

CREATE TABLE points_entry (
    id bigserial PRIMARY KEY,
    member bigint NOT NULL REFERENCES member (id),
    kind varchar(8) NOT NULL CHECK (kind IN ('grant', 'earn', 'spend', 'refund', 'expire', 'adjust')),
    amount integer NOT NULL CHECK (amount <> 0),
    -- One entry per member and reference ("grant:7", "spend:voucher:42"): replays add nothing.
    ref varchar(64) NOT NULL,
    voucher bigint REFERENCES voucher (id),
    points_grant bigint REFERENCES points_grant (id),
    operator integer REFERENCES operator (id),
    reason text,
    -- A spend's consumption, lot by lot ([[lot id, points], ...]), so its refund goes back to them.
    lots jsonb,
    created_at timestamptz NOT NULL,
    UNIQUE (member, ref),
    CHECK ((kind IN ('spend', 'expire')) = (amount < 0) OR kind = 'adjust')
);
CREATE INDEX points_entry_member ON points_entry (member, id DESC);

-- Append-only: history is corrected by new entries, never rewritten.
CREATE FUNCTION points_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'points_entry is append-only';
END $$;
CREATE TRIGGER points_entry_append_only BEFORE UPDATE OR DELETE ON points_entry
    FOR EACH ROW EXECUTE FUNCTION points_entry_append_only();

-- Points arrive in lots that expire together; spending takes from the lot expiring first.
CREATE TABLE points_lot (
    id bigserial PRIMARY KEY,
    member bigint NOT NULL REFERENCES member (id),
    entry bigint NOT NULL REFERENCES points_entry (id),
    amount integer NOT NULL CHECK (amount > 0),
    remaining integer NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    expires_at timestamptz NOT NULL,
    reminded_at timestamptz
);
CREATE INDEX points_lot_member ON points_lot (member, expires_at, id) WHERE remaining > 0;
CREATE INDEX points_lot_expiry ON points_lot (expires_at) WHERE remaining > 0;

-- The cached balance, written in the same transaction as every entry.
CREATE TABLE points_balance (
    id bigserial PRIMARY KEY,
    member bigint NOT NULL UNIQUE REFERENCES member (id),
    balance integer NOT NULL CHECK (balance >= 0)
);
"""

forwards = sql_migration("points", ID, DESCRIPTION, SQL)
