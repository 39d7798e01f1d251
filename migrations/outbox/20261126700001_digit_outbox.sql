-- Transactional outbox (crates/digit-outbox): a row per outbound message, written in the
-- caller's transaction and delivered by the relay. Times are epoch milliseconds.
CREATE TABLE IF NOT EXISTS digit_outbox (
    id              BIGSERIAL PRIMARY KEY,
    -- Sent to the receiver (Kafka header / HTTP header `Idempotency-Key`) so that a message
    -- delivered twice (a crash between delivery and marking it) takes effect once.
    idempotency_key TEXT        NOT NULL UNIQUE,
    kind            TEXT        NOT NULL CHECK (kind IN ('kafka', 'http')),
    -- Kafka: logical topic (the producer applies the central-instance prefix) and key.
    topic           TEXT,
    message_key     TEXT,
    -- HTTP: method and absolute URL.
    http_method     TEXT,
    http_url        TEXT,
    payload         BYTEA       NOT NULL,
    -- Extra headers: a JSON array of [name, value] pairs.
    headers         JSONB       NOT NULL DEFAULT '[]'::jsonb,
    status          TEXT        NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at BIGINT      NOT NULL,
    last_error      TEXT,
    created_at      BIGINT      NOT NULL,
    delivered_at    BIGINT,
    CHECK ((kind = 'kafka' AND topic IS NOT NULL)
        OR (kind = 'http' AND http_method IS NOT NULL AND http_url IS NOT NULL))
);

-- The relay's claim query: due pending rows in id order.
CREATE INDEX IF NOT EXISTS digit_outbox_due
    ON digit_outbox (next_attempt_at, id) WHERE status = 'pending';
