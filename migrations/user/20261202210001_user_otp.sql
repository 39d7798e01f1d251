-- Citizen OTPs of standalone mode (egov-otp's and user-otp's part): one row per OTP sent,
-- the OTP itself only as a salted SHA-256 digest. Single use; expired, used or too often
-- guessed OTPs no longer verify.
CREATE TABLE IF NOT EXISTS eg_user_otp (
    id              varchar(64)  PRIMARY KEY,
    tenantid        varchar(256) NOT NULL,
    identity        varchar(50)  NOT NULL,
    purpose         varchar(32)  NOT NULL,
    otp_hash        varchar(64)  NOT NULL,
    expires_at      bigint       NOT NULL,
    failed_attempts integer      NOT NULL DEFAULT 0,
    used            boolean      NOT NULL DEFAULT false,
    createdtime     bigint       NOT NULL
);
-- Verification looks up the live OTPs of a mobile number; sends count the recent ones.
CREATE INDEX IF NOT EXISTS idx_eg_user_otp_identity ON eg_user_otp (tenantid, identity, createdtime);
