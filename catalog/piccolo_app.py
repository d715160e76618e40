from pathlib import Path

from piccolo.conf.apps import AppConfig

from catalog.tables import (
    Category,
    Offer,
    OfferLocation,
    OfferRevision,
    OfferSlot,
    ProviderRating,
    SearchMiss,
    SearchTermDaily,
)

APP_CONFIG = AppConfig(
    app_name="catalog",
    migrations_folder_path=str(Path(__file__).resolve().parents[1] / "migrations" / "catalog"),
    table_classes=[
        Category,
        Offer,
        OfferLocation,
        OfferSlot,
        OfferRevision,
        SearchMiss,
        SearchTermDaily,
        ProviderRating,
    ],
    migration_dependencies=["providers.piccolo_app"],
)
