from marketplace.core.db import sql_migration

ID = "2026-11-30T09:40:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Payments of paid offers through Stripe, and the Stripe events received"

SQL = """
CREATE TABLE payment (
    id bigserial PRIMARY KEY,
    voucher bigint NOT NULL UNIQUE REFERENCES voucher (id),
    member bigint NOT NULL REFERENCES member (id),
    amount_fen integer NOT NULL CHECK (amount_fen > 0),
    currency varchar(3) NOT NULL DEFAULT 'cny',
    payment_intent varchar(255) UNIQUE,
    -- pending: stock held, awaiting payment; succeeded: the voucher is issued; cancelled:
    -- never paid (abandoned or hold expired); refunding/refunded: money going back.
    status varchar(16) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'succeeded', 'cancelled', 'refunding', 'refunded')),
    hold_until timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    succeeded_at timestamptz,
    cancelled_at timestamptz,
    refund_id varchar(255),
    refunded_at timestamptz
);
CREATE INDEX payment_pending_hold ON payment (hold_until) WHERE status = 'pending';

-- Every Stripe event once: the id is Stripe's, a redelivery finds its row.
CREATE TABLE stripe_event (
    id bigserial PRIMARY KEY,
    event_id varchar(255) NOT NULL UNIQUE,
    type varchar(100) NOT NULL,
    payload jsonb NOT NULL,
    received_at timestamptz NOT NULL,
    processed_at timestamptz
);
"""

forwards = sql_migration("payments", ID, DESCRIPTION, SQL)
