-- The registry of exchange servers (upstream V20240213123230__create_digit_exchange_table.sql),
-- created only if absent so an upstream database is adopted as it is, plus `seal_required`
-- (the peer runs our exchange: seal and replay checks apply to its messages).
CREATE TABLE IF NOT EXISTS eg_digit_exchange_servers (
    id                 varchar(64)  PRIMARY KEY,
    name               varchar(256) NOT NULL,
    description        varchar(256) NOT NULL,
    host_url           varchar(256) NOT NULL,
    public_key         varchar      NOT NULL,
    is_active          boolean,
    created_time       bigint,
    created_by         varchar(64),
    last_modified_time bigint,
    last_modified_by   varchar(64)
);

ALTER TABLE eg_digit_exchange_servers
    ADD COLUMN IF NOT EXISTS seal_required boolean NOT NULL DEFAULT false;

CREATE INDEX IF NOT EXISTS idx_eg_digit_exchange_servers_host_active
    ON eg_digit_exchange_servers (host_url) WHERE is_active = true;
