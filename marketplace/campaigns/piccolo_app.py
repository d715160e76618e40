from pathlib import Path

from piccolo.conf.apps import AppConfig

from marketplace.campaigns.tables import Campaign, CampaignMember, CampaignShare, CampaignShareSpend, CampaignSpend

# Its own Piccolo app: spends refer to the vouchers they paid for.
APP_CONFIG = AppConfig(
    app_name="campaigns",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "campaigns"),
    table_classes=[Campaign, CampaignMember, CampaignSpend, CampaignShare, CampaignShareSpend],
    migration_dependencies=["marketplace.vouchers.piccolo_app"],
)
