from marketplace.core.db import sql_migration

ID = "2026-11-22T07:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Federation tree, members, operators, sessions, outbox"

SQL = """
CREATE TABLE union_node (
    id serial PRIMARY KEY,
    parent integer REFERENCES union_node (id),
    level varchar(16) NOT NULL CHECK (level IN ('national', 'province', 'city', 'district', 'grassroots')),
    code varchar(32) NOT NULL UNIQUE,
    name_zh varchar(100) NOT NULL,
    name_en varchar(100) NOT NULL,
    path varchar(255) NOT NULL UNIQUE,
    depth smallint NOT NULL
);
CREATE INDEX union_node_path_prefix ON union_node (path varchar_pattern_ops);
CREATE INDEX union_node_parent ON union_node (parent);

CREATE TABLE member_group (
    id serial PRIMARY KEY,
    code varchar(32) NOT NULL UNIQUE,
    name_zh varchar(50) NOT NULL,
    name_en varchar(50) NOT NULL
);

CREATE TABLE member (
    id bigserial PRIMARY KEY,
    node integer NOT NULL REFERENCES union_node (id),
    name varchar(50) NOT NULL,
    gender varchar(1) NOT NULL CHECK (gender IN ('F', 'M')),
    birth_year smallint NOT NULL,
    phone_cipher bytea NOT NULL,
    phone_hash bytea NOT NULL UNIQUE,
    phone_masked varchar(11) NOT NULL,
    id_number_cipher bytea NOT NULL,
    id_number_hash bytea NOT NULL UNIQUE,
    groups varchar(32)[] NOT NULL DEFAULT '{}',
    password_hash text,
    status varchar(16) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'left')),
    preferences jsonb NOT NULL DEFAULT '{}',
    joined_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX member_node ON member (node);
CREATE INDEX member_groups ON member USING gin (groups);

CREATE TABLE notification (
    id bigserial PRIMARY KEY,
    member bigint NOT NULL REFERENCES member (id),
    kind varchar(32) NOT NULL,
    title varchar(200) NOT NULL,
    body text NOT NULL,
    source_event bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    read boolean NOT NULL DEFAULT false
);
CREATE INDEX notification_member ON notification (member, created_at DESC);

CREATE TABLE operator (
    id serial PRIMARY KEY,
    username varchar(64) NOT NULL UNIQUE,
    display_name varchar(50) NOT NULL,
    node integer NOT NULL REFERENCES union_node (id),
    password_hash text NOT NULL,
    totp_secret varchar(64),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_session (
    token_hash varchar(64) PRIMARY KEY,
    principal_kind varchar(16) NOT NULL CHECK (principal_kind IN ('member', 'provider', 'operator', 'evaluator')),
    principal_id varchar(32) NOT NULL,
    channel varchar(8) NOT NULL CHECK (channel IN ('cookie', 'bearer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX auth_session_principal ON auth_session (principal_kind, principal_id);
CREATE INDEX auth_session_expires ON auth_session (expires_at);

CREATE TABLE outbox_event (
    id bigserial PRIMARY KEY,
    topic varchar(64) NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX outbox_event_pending ON outbox_event (id) WHERE delivered_at IS NULL;

CREATE TABLE processed_event (
    id bigserial PRIMARY KEY,
    consumer varchar(64) NOT NULL,
    event_id bigint NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer, event_id)
);
"""


forwards = sql_migration("marketplace", ID, DESCRIPTION, SQL)
