from marketplace.core.db import sql_migration

ID = "2026-12-04T15:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "The finance role, and four-eyes approvals: a change one operator proposes and another approves"

SQL = """
ALTER TABLE operator DROP CONSTRAINT IF EXISTS operator_role_check;
ALTER TABLE operator ADD CONSTRAINT operator_role_check
    CHECK (role IN ('administrator', 'reviewer', 'finance', 'analyst'));

-- A money change waiting for a second operator (marketplace/core/identity/approvals.py): a
-- provider's payout account, a large points adjustment or grant. `payload` is what is
-- applied once approved; the proposer never decides their own proposal.
CREATE TABLE approval_request (
    id bigserial PRIMARY KEY,
    kind varchar(32) NOT NULL,
    subject_id bigint NOT NULL,
    node integer NOT NULL REFERENCES union_node (id),
    payload jsonb NOT NULL,
    status varchar(12) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    proposed_by integer NOT NULL REFERENCES operator (id),
    proposed_at timestamptz NOT NULL DEFAULT now(),
    decided_by integer REFERENCES operator (id),
    decided_at timestamptz,
    note varchar(500),
    CHECK (decided_by IS NULL OR decided_by <> proposed_by)
);
CREATE INDEX approval_request_pending ON approval_request (node, proposed_at) WHERE status = 'pending';
-- One pending payout-account change per provider at a time.
CREATE UNIQUE INDEX approval_request_one_account_change ON approval_request (subject_id)
    WHERE status = 'pending' AND kind = 'payout_account';
"""

forwards = sql_migration("marketplace", ID, DESCRIPTION, SQL)
