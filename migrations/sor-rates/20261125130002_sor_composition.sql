-- Rate-analysis compositions: how much of which basic SORs (and which extra charges) make
-- `quantity` units of a works SOR, from `effectivefrom`. Written by the persister.
CREATE TABLE IF NOT EXISTS eg_sor_composition (
    id                 varchar(64)  PRIMARY KEY,
    tenantid           varchar(64)  NOT NULL,
    compositionid      varchar(64)  NOT NULL,
    sorid              varchar(64)  NOT NULL REFERENCES eg_sor (id),
    quantity           numeric      NOT NULL CHECK (quantity > 0),
    effectivefrom      bigint       NOT NULL,
    effectiveto        bigint,
    isactive           boolean      NOT NULL DEFAULT true,
    basicsordetails    jsonb        NOT NULL,
    additionalcharges  jsonb        NOT NULL DEFAULT '[]',
    createdby          varchar(64),
    createdtime        bigint,
    lastmodifiedby     varchar(64),
    lastmodifiedtime   bigint,
    CONSTRAINT uk_eg_sor_composition UNIQUE (tenantid, compositionid),
    CONSTRAINT ck_eg_sor_composition_validity CHECK (effectiveto IS NULL OR effectiveto > effectivefrom),
    CONSTRAINT ex_eg_sor_composition_overlap EXCLUDE USING gist (
        tenantid WITH =, sorid WITH =,
        int8range(effectivefrom, coalesce(effectiveto, 9223372036854775807)) WITH &&
    ) WHERE (isactive)
);
-- "Is this basic SOR used by an active composition?" (deactivation check).
CREATE INDEX IF NOT EXISTS idx_eg_sor_composition_basic ON eg_sor_composition USING gin (basicsordetails jsonb_path_ops);
