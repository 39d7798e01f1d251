-- Sealed messages already received (replay protection). The primary key is the identity of
-- a message: sender, message id, type, action and the SHA-256 (hex) of the message string.
-- Rows older than twice EXCHANGE_REPLAY_WINDOW_MS (by seen_at and message_ts) are pruned.
CREATE TABLE IF NOT EXISTS eg_digit_exchange_seen (
    sender_id      text   NOT NULL,
    message_id     text   NOT NULL,
    message_type   text   NOT NULL,
    action         text   NOT NULL,
    message_sha256 text   NOT NULL,
    message_ts     bigint NOT NULL,
    seen_at        bigint NOT NULL,
    PRIMARY KEY (sender_id, message_id, message_type, action, message_sha256)
);

CREATE INDEX IF NOT EXISTS idx_eg_digit_exchange_seen_at ON eg_digit_exchange_seen (seen_at);
