from marketplace.core.db import sql_migration

ID = "2026-11-22T07:00:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "Providers, their locations and their users"

SQL = """
CREATE TABLE provider (
    id serial PRIMARY KEY,
    name varchar(100) NOT NULL,
    credit_code varchar(18) NOT NULL UNIQUE,
    kind varchar(16) NOT NULL
        CHECK (kind IN ('merchant', 'gym', 'clinic', 'trainer', 'restaurant', 'cinema', 'other')),
    node integer NOT NULL REFERENCES union_node (id),
    contact_name varchar(50) NOT NULL,
    contact_phone varchar(20) NOT NULL,
    status varchar(16) NOT NULL DEFAULT 'applied'
        CHECK (status IN ('applied', 'active', 'rejected', 'suspended', 'delisted')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provider_node ON provider (node);

CREATE TABLE location (
    id serial PRIMARY KEY,
    provider integer NOT NULL REFERENCES provider (id),
    name varchar(100) NOT NULL,
    address varchar(200) NOT NULL,
    district varchar(32) NOT NULL,
    latitude double precision NOT NULL CHECK (latitude BETWEEN 3 AND 54),
    longitude double precision NOT NULL CHECK (longitude BETWEEN 73 AND 136),
    opening_hours jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX location_provider ON location (provider);

CREATE TABLE provider_user (
    id serial PRIMARY KEY,
    provider integer NOT NULL REFERENCES provider (id),
    username varchar(64) NOT NULL UNIQUE,
    display_name varchar(50) NOT NULL,
    role varchar(8) NOT NULL CHECK (role IN ('owner', 'staff')),
    password_hash text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provider_user_provider ON provider_user (provider);
"""


forwards = sql_migration("providers", ID, DESCRIPTION, SQL)
