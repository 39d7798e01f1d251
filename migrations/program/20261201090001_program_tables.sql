-- iFIX program-service tables (services/program). Upstream's names and columns (spec §1.15),
-- with exact money (NUMERIC, never floating point), the exchange codes as columns of each
-- entity instead of upstream's eg_program_message_codes side table, and the constraints
-- that make the ledger safe under concurrency (§5 items 1-7). Times are epoch milliseconds.

CREATE TABLE eg_program (
    id                     VARCHAR(64)  PRIMARY KEY,
    location_code          VARCHAR(64)  NOT NULL,
    program_code           VARCHAR(64),
    name                   VARCHAR(64),
    parent_id              VARCHAR(64),
    description            VARCHAR(256),
    status                 VARCHAR(64),
    status_message         TEXT,
    start_date             BIGINT       NOT NULL,
    end_date               BIGINT       NOT NULL DEFAULT 0,
    function_code          VARCHAR(128),
    administration_code    VARCHAR(128),
    recipient_segment_code VARCHAR(128),
    economic_segment_code  VARCHAR(128),
    source_of_fund_code    VARCHAR(128),
    target_segment_code    VARCHAR(128),
    currency_code          VARCHAR(128),
    locale_code            VARCHAR(128),
    additional_details     JSONB,
    created_by             VARCHAR(256),
    last_modified_by       VARCHAR(256),
    created_time           BIGINT       NOT NULL,
    last_modified_time     BIGINT       NOT NULL,
    -- A program code names one program per location (sanctions refer to it by code).
    UNIQUE (location_code, program_code)
);
CREATE INDEX eg_program_location ON eg_program (location_code, last_modified_time DESC);
CREATE INDEX eg_program_parent ON eg_program (parent_id);
CREATE INDEX eg_program_name ON eg_program (location_code, name);

-- Balances change only through guarded relative updates written with a ledger row in the
-- same transaction (eg_program_transaction_logs); the CHECKs are the last line of defence.
CREATE TABLE eg_program_sanction (
    id                     VARCHAR(64)  PRIMARY KEY,
    location_code          VARCHAR(64)  NOT NULL,
    program_code           VARCHAR(64)  NOT NULL,
    net_amount             NUMERIC      NOT NULL CHECK (net_amount > 0),
    gross_amount           NUMERIC      NOT NULL CHECK (gross_amount > 0),
    allocated_amount       NUMERIC      NOT NULL DEFAULT 0,
    available_amount       NUMERIC      NOT NULL DEFAULT 0,
    status                 VARCHAR(64),
    status_message         TEXT,
    function_code          VARCHAR(128),
    administration_code    VARCHAR(128),
    recipient_segment_code VARCHAR(128),
    economic_segment_code  VARCHAR(128),
    source_of_fund_code    VARCHAR(128),
    target_segment_code    VARCHAR(128),
    currency_code          VARCHAR(128),
    locale_code            VARCHAR(128),
    additional_details     JSONB,
    created_by             VARCHAR(256),
    last_modified_by       VARCHAR(256),
    created_time           BIGINT       NOT NULL,
    last_modified_time     BIGINT       NOT NULL,
    CHECK (allocated_amount >= 0 AND allocated_amount <= gross_amount),
    CHECK (available_amount >= 0 AND available_amount <= allocated_amount)
);
-- The auto-pick order: oldest first.
CREATE INDEX eg_program_sanction_program
    ON eg_program_sanction (location_code, program_code, created_time, id);

CREATE TABLE eg_program_allocation (
    id                     VARCHAR(64)  PRIMARY KEY,
    location_code          VARCHAR(64)  NOT NULL,
    program_code           VARCHAR(64)  NOT NULL,
    sanction_id            VARCHAR(64)  NOT NULL REFERENCES eg_program_sanction (id),
    net_amount             NUMERIC      NOT NULL CHECK (net_amount > 0),
    gross_amount           NUMERIC      NOT NULL CHECK (gross_amount > 0),
    allocation_type        VARCHAR(64)  NOT NULL CHECK (allocation_type IN ('ALLOCATION', 'DEDUCTION')),
    status                 VARCHAR(64),
    status_message         TEXT,
    function_code          VARCHAR(128),
    administration_code    VARCHAR(128),
    recipient_segment_code VARCHAR(128),
    economic_segment_code  VARCHAR(128),
    source_of_fund_code    VARCHAR(128),
    target_segment_code    VARCHAR(128),
    currency_code          VARCHAR(128),
    locale_code            VARCHAR(128),
    additional_details     JSONB,
    created_by             VARCHAR(256),
    last_modified_by       VARCHAR(256),
    created_time           BIGINT       NOT NULL,
    last_modified_time     BIGINT       NOT NULL
);
CREATE INDEX eg_program_allocation_sanction ON eg_program_allocation (sanction_id);
CREATE INDEX eg_program_allocation_program ON eg_program_allocation (location_code, program_code);

-- Parents (parent_id NULL) are payments; children are payee lines. account_code and the
-- individual's name/phone/address are AES-GCM ciphertexts ("<key id>:<nonce+ct base64>").
CREATE TABLE eg_program_disburse (
    id                     VARCHAR(64)  PRIMARY KEY,
    location_code          VARCHAR(64)  NOT NULL,
    program_code           VARCHAR(64)  NOT NULL,
    parent_id              VARCHAR(64)  REFERENCES eg_program_disburse (id),
    target_id              VARCHAR(64)  NOT NULL,
    transaction_id         VARCHAR(64),
    sanction_id            VARCHAR(64)  REFERENCES eg_program_sanction (id),
    account_code           TEXT,
    individual             JSONB,
    net_amount             NUMERIC      NOT NULL CHECK (net_amount > 0),
    gross_amount           NUMERIC      NOT NULL CHECK (gross_amount > 0),
    status                 VARCHAR(64),
    status_message         TEXT,
    function_code          VARCHAR(128),
    administration_code    VARCHAR(128),
    recipient_segment_code VARCHAR(128),
    economic_segment_code  VARCHAR(128),
    source_of_fund_code    VARCHAR(128),
    target_segment_code    VARCHAR(128),
    currency_code          VARCHAR(128),
    locale_code            VARCHAR(128),
    additional_details     JSONB,
    created_by             VARCHAR(256),
    last_modified_by       VARCHAR(256),
    created_time           BIGINT       NOT NULL,
    last_modified_time     BIGINT       NOT NULL,
    -- What this payment took from its sanction (0 for a revision of a PARTIAL payment,
    -- which reuses the earlier debit) and what was given back; a refund returns exactly
    -- the debit, once.
    debited_amount         NUMERIC      NOT NULL DEFAULT 0,
    refunded_amount        NUMERIC      NOT NULL DEFAULT 0,
    CHECK (refunded_amount >= 0 AND refunded_amount <= debited_amount)
);
-- At most one payment in flight per target (§5 item 3), enforced by the database.
CREATE UNIQUE INDEX eg_program_disburse_in_flight
    ON eg_program_disburse (location_code, target_id)
    WHERE parent_id IS NULL AND status IN ('INITIATED', 'INPROCESS');
CREATE INDEX eg_program_disburse_parent ON eg_program_disburse (parent_id);
CREATE INDEX eg_program_disburse_target ON eg_program_disburse (location_code, target_id, created_time);
CREATE INDEX eg_program_disburse_transaction ON eg_program_disburse (transaction_id);
CREATE INDEX eg_program_disburse_program ON eg_program_disburse (location_code, program_code);

-- The ledger: one row per change of a sanction's balances, written in the transaction that
-- changes them, so that for every sanction
--   allocated_amount = SUM(allocated_delta) and available_amount = SUM(available_delta).
-- type is upstream's DEBIT/CREDIT; kind says why.
CREATE TABLE eg_program_transaction_logs (
    id                 VARCHAR(64)  PRIMARY KEY,
    location_code      VARCHAR(64)  NOT NULL,
    program_code       VARCHAR(64)  NOT NULL,
    sanction_id        VARCHAR(64)  NOT NULL REFERENCES eg_program_sanction (id),
    disburse_id        VARCHAR(64)  REFERENCES eg_program_disburse (id),
    allocation_id      VARCHAR(64)  REFERENCES eg_program_allocation (id),
    type               VARCHAR(16)  NOT NULL CHECK (type IN ('DEBIT', 'CREDIT')),
    kind               VARCHAR(16)  NOT NULL CHECK (kind IN ('ALLOCATION', 'DEDUCTION', 'DISBURSE', 'REFUND')),
    amount             NUMERIC      NOT NULL CHECK (amount > 0),
    allocated_delta    NUMERIC      NOT NULL,
    available_delta    NUMERIC      NOT NULL,
    additional_details JSONB,
    created_by         VARCHAR(256),
    created_time       BIGINT       NOT NULL
);
CREATE INDEX eg_program_transaction_logs_sanction ON eg_program_transaction_logs (sanction_id);
-- A payment is debited once and refunded at most once.
CREATE UNIQUE INDEX eg_program_transaction_logs_one_debit
    ON eg_program_transaction_logs (disburse_id) WHERE kind = 'DISBURSE';
CREATE UNIQUE INDEX eg_program_transaction_logs_one_refund
    ON eg_program_transaction_logs (disburse_id) WHERE kind = 'REFUND';

-- Inbound idempotency (§5 item 7): a message redelivered with the same sender, id, type,
-- action and content answers the stored response and changes nothing. The content digest
-- is part of the key because upstream senders (and upstream's Postman collection) reuse
-- message ids ("123") for different messages.
CREATE TABLE eg_program_inbox (
    sender_id      TEXT    NOT NULL,
    message_id     TEXT    NOT NULL,
    message_type   TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    digest         TEXT    NOT NULL,
    response       JSONB   NOT NULL,
    created_time   BIGINT  NOT NULL,
    PRIMARY KEY (sender_id, message_id, message_type, action, digest)
);
