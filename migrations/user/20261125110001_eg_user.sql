-- Users of standalone mode (egov-user's role when no EGOV_USER_HOST is configured):
-- employees seeded from configs/users, citizens created by modules (PGR) by mobile number.
CREATE TABLE IF NOT EXISTS eg_user (
    id               bigserial PRIMARY KEY,
    uuid             varchar(64)  NOT NULL UNIQUE,
    tenantid         varchar(256) NOT NULL,
    username         varchar(180) NOT NULL,
    name             varchar(250),
    mobilenumber     varchar(50),
    emailid          varchar(128),
    type             varchar(50)  NOT NULL,
    active           boolean      NOT NULL DEFAULT true,
    roles            jsonb        NOT NULL DEFAULT '[]',
    createdtime      bigint       NOT NULL,
    lastmodifiedtime bigint       NOT NULL,
    UNIQUE (tenantid, username, type)
);
-- Citizen lookup by mobile number (PGR's find-or-create).
CREATE INDEX IF NOT EXISTS idx_eg_user_mobile ON eg_user (mobilenumber, type);
