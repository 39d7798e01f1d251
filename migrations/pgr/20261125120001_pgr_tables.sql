-- pgr-services complaint tables (spec upstream-pgr.md §7.4), folded into one migration.
-- Rows of eg_pgr_service_v2 / eg_pgr_address_v2 / eg_pgr_document_v2 are written by the
-- persister (configs/persister/pgr-services-persister.yml, topics save-pgr-request,
-- update-pgr-request, pgr-auto-escalation); the pgr service only reads them.
-- eg_pgr_hrms_projection is owned by the pgr service itself (HRMS reporting lines).
--
-- Column names, types and lengths match upstream's Flyway schema so that the upstream
-- Kafka payloads and row mappers work unchanged. Constraint and index names follow
-- upstream's too: on a database that already carries the upstream schema every statement
-- below is a no-op instead of creating duplicates.

-- The complaint. The natural key is (tenantid, servicerequestid); id (UUID) is unique and
-- is what addresses and documents point at.
CREATE TABLE IF NOT EXISTS eg_pgr_service_v2 (
    id                  varchar(64),
    tenantid            varchar(256),
    servicecode         varchar(256)  NOT NULL,
    servicerequestid    varchar(256),
    description         varchar(4000),              -- nullable (upstream dropped NOT NULL)
    accountid           varchar(256),               -- complainant user uuid
    additionaldetails   jsonb,                      -- Service.additionalDetail
    applicationstatus   varchar(128),
    rating              smallint,                   -- only written by update-pgr-request
    source              varchar(256),
    createdby           varchar(256)  NOT NULL,
    createdtime         bigint        NOT NULL,     -- epoch ms
    lastmodifiedby      varchar(256),
    lastmodifiedtime    bigint,                     -- epoch ms
    active              boolean       DEFAULT true, -- never written by the persister
    extended_attributes jsonb,                      -- Service.extendedAttributes (encrypted PII)
    CONSTRAINT uk_eg_pgr_service_v2 UNIQUE (id),
    CONSTRAINT pk_eg_pgr_servicereq_v2 PRIMARY KEY (tenantid, servicerequestid)
);

-- Exactly one address per complaint (parentid = eg_pgr_service_v2.id).
CREATE TABLE IF NOT EXISTS eg_pgr_address_v2 (
    tenantid          varchar(256)  NOT NULL,
    id                varchar(256)  NOT NULL,
    parentid          varchar(256)  NOT NULL,
    doorno            varchar(128),
    plotno            varchar(256),
    buildingname      varchar(1024),
    street            varchar(1024),
    landmark          varchar(1024),
    city              varchar(512),
    pincode           varchar(16),
    locality          varchar(128)  NOT NULL,       -- Address.locality.code
    district          varchar(256),
    region            varchar(256),
    state             varchar(256),
    country           varchar(512),
    latitude          numeric(9,6),                 -- Address.geoLocation.latitude
    longitude         numeric(10,7),                -- Address.geoLocation.longitude
    createdby         varchar(128)  NOT NULL,
    createdtime       bigint        NOT NULL,
    lastmodifiedby    varchar(128),
    lastmodifiedtime  bigint,
    additionaldetails jsonb,                        -- Address.additionDetails (sic)
    CONSTRAINT pk_eg_pgr_address_v2 PRIMARY KEY (id),
    CONSTRAINT fk_eg_pgr_address_v2 FOREIGN KEY (parentid) REFERENCES eg_pgr_service_v2 (id)
);

-- Service-level attachments (Service.documents[]); audit columns copy the service's.
CREATE TABLE IF NOT EXISTS eg_pgr_document_v2 (
    id                 varchar(64)  NOT NULL,
    document_type      varchar(64),
    filestore_id       varchar(64),
    document_uid       varchar(64),
    service_id         varchar(64),
    additional_details jsonb,
    created_by         varchar(64),
    last_modified_by   varchar(64),
    created_time       bigint,
    last_modified_time bigint,
    CONSTRAINT uk_eg_pgr_document_v2 PRIMARY KEY (id),
    CONSTRAINT fk_eg_pgr_document_v2 FOREIGN KEY (service_id) REFERENCES eg_pgr_service_v2 (id)
);

-- Local copy of the HRMS reporting hierarchy used by inbox visibility (scope=TEAM).
CREATE TABLE IF NOT EXISTS eg_pgr_hrms_projection (
    uuid             varchar(128) NOT NULL,
    tenantid         varchar(256) NOT NULL,
    reporting_to     varchar(128),
    department       varchar(256),
    active           boolean      DEFAULT true,
    lastmodifiedtime bigint,
    CONSTRAINT pk_eg_pgr_hrms_projection PRIMARY KEY (uuid)
);

-- Indexes upstream has.
CREATE INDEX IF NOT EXISTS index_eg_pgr_service_v2_tenantid_servicerequestid
    ON eg_pgr_service_v2 (tenantid, servicerequestid);
CREATE INDEX IF NOT EXISTS index_eg_pgr_service_v2_id
    ON eg_pgr_service_v2 (id);
CREATE INDEX IF NOT EXISTS index_eg_pgr_service_v2_applicationstatus
    ON eg_pgr_service_v2 (applicationstatus);
CREATE INDEX IF NOT EXISTS index_eg_pgr_service_v2_servicecode
    ON eg_pgr_service_v2 (servicecode);
CREATE INDEX IF NOT EXISTS index_eg_pgr_service_v2_accountid
    ON eg_pgr_service_v2 (accountid);
CREATE INDEX IF NOT EXISTS idx_pgr_svc_ext_case_related_to
    ON eg_pgr_service_v2 ((extended_attributes ->> 'caseRelatedTo'));
CREATE INDEX IF NOT EXISTS idx_pgr_svc_ext_is_confidential
    ON eg_pgr_service_v2 (((extended_attributes ->> 'isConfidential')::boolean));
CREATE INDEX IF NOT EXISTS index_eg_pgr_address_v2_locality
    ON eg_pgr_address_v2 (locality);
CREATE INDEX IF NOT EXISTS index_eg_pgr_document_v2_tenant_service
    ON eg_pgr_document_v2 (service_id);
CREATE INDEX IF NOT EXISTS index_eg_pgr_document_v2_filestore_id
    ON eg_pgr_document_v2 (filestore_id);
CREATE INDEX IF NOT EXISTS idx_eg_pgr_hrms_projection_reporting
    ON eg_pgr_hrms_projection (tenantid, reporting_to);

-- The address foreign key: every search joins ads.parentid = ser.id, which without this
-- index is a sequential scan of the address table.
CREATE INDEX IF NOT EXISTS idx_eg_pgr_address_v2_parentid
    ON eg_pgr_address_v2 (parentid);

-- Search criteria (§5.2) not covered above: serviceRequestIds without a usable tenant
-- equality, state-level tenant prefix (tenantid LIKE 'pg%'), createdtime ordering and
-- fromDate/toDate/SLA windows, overall and within a tenant.
CREATE INDEX IF NOT EXISTS idx_eg_pgr_service_v2_servicerequestid
    ON eg_pgr_service_v2 (servicerequestid);
CREATE INDEX IF NOT EXISTS idx_eg_pgr_service_v2_tenantid_prefix
    ON eg_pgr_service_v2 (tenantid varchar_pattern_ops);
CREATE INDEX IF NOT EXISTS idx_eg_pgr_service_v2_createdtime
    ON eg_pgr_service_v2 (createdtime);
CREATE INDEX IF NOT EXISTS idx_eg_pgr_service_v2_tenantid_createdtime
    ON eg_pgr_service_v2 (tenantid, createdtime);
