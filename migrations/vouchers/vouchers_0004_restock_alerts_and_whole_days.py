from marketplace.core.db import sql_migration

ID = "2026-12-03T15:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Restock alerts (到货提醒); vouchers already issued last to the end of their last day"

# A voucher now lasts to the end of its offer's last day in Asia/Shanghai
# (marketplace/core/dates.py end_of_last_day), so no expiry reads 02:00 or 08:13. Vouchers issued
# before this rule get the same: their expiry moves forward to the next Shanghai midnight
# (never back, so nobody loses a voucher); bookings keep the end of their slot.
SQL = """
CREATE TABLE restock_alert (
    id bigserial PRIMARY KEY,
    member bigint NOT NULL REFERENCES member (id),
    offer bigint NOT NULL REFERENCES offer (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    notified_at timestamptz
);
-- One waiting alert per member and offer; a new one may follow once it was sent.
CREATE UNIQUE INDEX restock_alert_waiting ON restock_alert (member, offer) WHERE notified_at IS NULL;
CREATE INDEX restock_alert_offer_waiting ON restock_alert (offer) WHERE notified_at IS NULL;

UPDATE voucher
SET expires_at = (date_trunc('day', (expires_at - interval '1 microsecond') AT TIME ZONE 'Asia/Shanghai')
                  + interval '1 day') AT TIME ZONE 'Asia/Shanghai'
WHERE slot IS NULL AND status IN ('pending', 'issued')
  AND expires_at <> date_trunc('day', expires_at AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai';
"""

forwards = sql_migration("vouchers", ID, DESCRIPTION, SQL)
