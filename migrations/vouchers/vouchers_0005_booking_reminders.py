from marketplace.core.db import sql_migration

ID = "2026-12-04T10:05:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Booking reminders: the day before a booked slot the member is told once"

SQL = """
ALTER TABLE voucher ADD COLUMN reminded_at timestamptz;
-- The reminder run looks at issued bookings not yet reminded.
CREATE INDEX voucher_booking_unreminded ON voucher (slot) WHERE status = 'issued' AND slot IS NOT NULL
    AND reminded_at IS NULL;
"""

forwards = sql_migration("vouchers", ID, DESCRIPTION, SQL)
