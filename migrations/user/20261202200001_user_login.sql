-- Login for standalone mode: password hashes (PBKDF2-HMAC-SHA256, never the password), the
-- failed-attempt counter and lock of each user, and refresh tokens (their SHA-256 only).
ALTER TABLE eg_user ADD COLUMN IF NOT EXISTS password_hash   varchar(256);
ALTER TABLE eg_user ADD COLUMN IF NOT EXISTS failed_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE eg_user ADD COLUMN IF NOT EXISTS first_failed_at bigint;
ALTER TABLE eg_user ADD COLUMN IF NOT EXISTS locked_until    bigint;

CREATE TABLE IF NOT EXISTS eg_user_refresh_token (
    token_hash  varchar(64) PRIMARY KEY,
    user_uuid   varchar(64) NOT NULL REFERENCES eg_user (uuid),
    expires_at  bigint      NOT NULL,
    revoked     boolean     NOT NULL DEFAULT false,
    createdtime bigint      NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_eg_user_refresh_token_user ON eg_user_refresh_token (user_uuid);
