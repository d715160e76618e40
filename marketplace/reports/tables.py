"""Report aggregates: reports' own Piccolo app (marketplace/reports/piccolo_app.py,
migrations/reports/). Rows carry the materialised path of their node, so a roll-up to any
node is one prefix scan (`node_path LIKE '/1/4/%'`, btree text_pattern_ops). Composite primary keys live in the
migration; Piccolo sees the first key column as the primary key."""

from piccolo.columns import BigInt, Date, DoublePrecision, Integer, Timestamptz, Varchar
from piccolo.table import Table


class ReportUsageDaily(Table, tablename="report_usage_daily"):
    day = Date(primary_key=True)
    node = Integer()
    node_path = Varchar(length=255)
    category = Integer()
    member_group = Varchar(length=32)  # '*': every voucher once; otherwise one of the member's groups
    claims = Integer(default=0)
    redemptions = Integer(default=0)
    subsidy_fen = BigInt(default=0)
    paid_fen = BigInt(default=0)


class ReportProviderDaily(Table, tablename="report_provider_daily"):
    day = Date(primary_key=True)
    provider = Integer()
    node_path = Varchar(length=255)
    redemptions = Integer(default=0)
    subsidy_fen = BigInt(default=0)


class ReportSearchMissDaily(Table, tablename="report_search_miss_daily"):
    day = Date(primary_key=True)
    district = Varchar(length=100)
    query = Varchar(length=100)
    node_path = Varchar(length=255)
    misses = Integer(default=0)


class ReportCoverage(Table, tablename="report_coverage"):
    node = Integer(primary_key=True)
    node_path = Varchar(length=255)
    district = Varchar(length=100)
    members = Integer(default=0)
    providers = Integer(default=0)
    computed_at = Timestamptz()


class ReportRun(Table, tablename="report_run"):
    name = Varchar(length=32, primary_key=True)
    last_run_at = Timestamptz()
    from_day = Date()
    seconds = DoublePrecision(default=0)
