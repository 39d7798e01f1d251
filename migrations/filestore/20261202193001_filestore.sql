-- Stored files: one row per file (upstream: eg_filestoremap), the bytes in the configured
-- storage (local disk or an S3-compatible bucket) under `storage_key`.
CREATE TABLE IF NOT EXISTS eg_filestoremap (
    filestoreid  varchar(64)  PRIMARY KEY,
    tenantid     varchar(256) NOT NULL,
    filename     varchar(256) NOT NULL,
    contenttype  varchar(128) NOT NULL,
    module       varchar(256),
    tag          varchar(256),
    size         bigint       NOT NULL,
    storage_key  varchar(512) NOT NULL,
    createdby    varchar(256),
    createdtime  bigint       NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_eg_filestoremap_tenant ON eg_filestoremap (tenantid, filestoreid);
