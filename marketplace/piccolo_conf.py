"""Piccolo's configuration: the engine and the apps.

`PICCOLO_CONF` points here (set in marketplace/__init__.py), so the repository's top
level stays as the layout says.
"""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(
    config={"dsn": os.environ.get("DATABASE_URL", "postgresql://postgres@localhost/benefits")},
    log_queries=False,
)

APP_REGISTRY = AppRegistry(
    apps=[
        "marketplace.piccolo_app",
        "providers.piccolo_app",
        "catalog.piccolo_app",
        "evaluation.piccolo_app",
        "marketplace.vouchers.piccolo_app",
        "marketplace.points.piccolo_app",
        "marketplace.payments.piccolo_app",
        "marketplace.campaigns.piccolo_app",
        "marketplace.favourites.piccolo_app",
        "marketplace.reports.piccolo_app",
        "marketplace.draws.piccolo_app",
        "marketplace.prepaid.piccolo_app",
    ]
)
