from marketplace.core.db import sql_migration

ID = "2026-12-04T22:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Who handles a complaint now: forwarded to the provider's own union or to a named operator"

# evaluation.complaints.forward sets both: the union node that holds the complaint and, when it
# was handed to a person, that operator. The history of each hand-over (who, when, to whom,
# why) is the audit log's `complaint.forwarded` events; these columns are only the current
# holder, for the receiver's to-do list. Both stay empty until the first forward.
SQL = """
ALTER TABLE complaint
    ADD COLUMN assigned_node integer REFERENCES union_node (id),
    ADD COLUMN assigned_operator integer REFERENCES operator (id);
CREATE INDEX complaint_assigned ON complaint (assigned_node, assigned_operator) WHERE status <> 'closed';
"""

forwards = sql_migration("evaluation", ID, DESCRIPTION, SQL)
