-- Schedules of rates and their dated rates. Rows are written by the persister
-- (configs/persister/sor-rates-persister.yml); the service reads them.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE IF NOT EXISTS eg_sor (
    id                 varchar(64)   PRIMARY KEY,
    tenantid           varchar(64)   NOT NULL,
    sornumber          varchar(64)   NOT NULL,
    sortype            varchar(64)   NOT NULL,
    sorsubtype         varchar(64)   NOT NULL DEFAULT 'NA',
    sorvariant         varchar(64)   NOT NULL DEFAULT 'NA',
    uom                varchar(64)   NOT NULL,
    uomvalue           numeric       NOT NULL CHECK (uomvalue > 0),
    description        varchar(2048) NOT NULL,
    isactive           boolean       NOT NULL DEFAULT true,
    additionaldetails  jsonb,
    createdby          varchar(64),
    createdtime        bigint,
    lastmodifiedby     varchar(64),
    lastmodifiedtime   bigint,
    CONSTRAINT uk_eg_sor_number UNIQUE (tenantid, sornumber)
);
-- One SOR per (type, subtype, variant, uom, description) in a tenant: duplicates refused.
CREATE UNIQUE INDEX IF NOT EXISTS uk_eg_sor_natural
    ON eg_sor (tenantid, sortype, sorsubtype, sorvariant, uom, lower(description));
CREATE INDEX IF NOT EXISTS idx_eg_sor_type ON eg_sor (tenantid, sortype, sorsubtype, sorvariant);

CREATE TABLE IF NOT EXISTS eg_sor_rate (
    id                 varchar(64)   PRIMARY KEY,
    tenantid           varchar(64)   NOT NULL,
    sorid              varchar(64)   NOT NULL REFERENCES eg_sor (id),
    detailid           varchar(64)   NOT NULL DEFAULT '',
    validfrom          bigint        NOT NULL,
    validto            bigint,
    rate               numeric(18,2) NOT NULL CHECK (rate >= 0),
    isactive           boolean       NOT NULL DEFAULT true,
    compositionid      varchar(64),
    additionaldetails  jsonb,
    createdby          varchar(64),
    createdtime        bigint,
    lastmodifiedby     varchar(64),
    lastmodifiedtime   bigint,
    CONSTRAINT ck_eg_sor_rate_validity CHECK (validto IS NULL OR validto > validfrom),
    -- Active rates of one (tenant, SOR, detail) never overlap: validity is [validfrom, validto).
    CONSTRAINT ex_eg_sor_rate_overlap EXCLUDE USING gist (
        tenantid WITH =, sorid WITH =, detailid WITH =,
        int8range(validfrom, coalesce(validto, 9223372036854775807)) WITH &&
    ) WHERE (isactive)
);
CREATE INDEX IF NOT EXISTS idx_eg_sor_rate_sor ON eg_sor_rate (tenantid, sorid, validfrom);

CREATE TABLE IF NOT EXISTS eg_sor_rate_amount (
    id                 varchar(64)   PRIMARY KEY,
    rateid             varchar(64)   NOT NULL REFERENCES eg_sor_rate (id) ON DELETE CASCADE,
    type               varchar(64),
    heads              varchar(64)   NOT NULL,
    amount             numeric(18,2) NOT NULL CHECK (amount >= 0),
    additionaldetails  jsonb,
    CONSTRAINT uk_eg_sor_rate_amount_head UNIQUE (rateid, heads)
);
CREATE INDEX IF NOT EXISTS idx_eg_sor_rate_amount_heads ON eg_sor_rate_amount (heads);
