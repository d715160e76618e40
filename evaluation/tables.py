from piccolo.columns import Boolean, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

# The federation tree belongs to marketplace; a lazy reference keeps this package
# from importing it.
UNION_NODE = LazyTableReference("UnionNode", module_path="marketplace.federation.tables")


class EvaluatorOrg(Table, tablename="evaluator_org"):
    """An independent survey agency, scoped to one federation node."""

    id = Serial(primary_key=True)
    name = Varchar(length=100)
    node = ForeignKey(UNION_NODE, null=False)
    active = Boolean(default=True)
    created_at = Timestamptz()


class EvaluatorApiKey(Table, tablename="evaluator_api_key"):
    """An API key `ek_<prefix>_<secret>`: the prefix finds the row, only the SHA-256
    of the whole key is kept."""

    id = Serial(primary_key=True)
    org = ForeignKey(EvaluatorOrg, null=False)
    prefix = Varchar(length=16, unique=True)
    key_hash = Varchar(length=64)
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
