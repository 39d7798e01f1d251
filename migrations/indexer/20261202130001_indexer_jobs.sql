-- Jobs of `_reindex` and `_legacyindex` (upstream: table eg_indexer_job, written through the
-- persister from save-index-jobs / update-index-jobs; here written by the indexer itself).
CREATE TABLE IF NOT EXISTS eg_indexer_job (
    id                  TEXT PRIMARY KEY,
    jobstatus           TEXT NOT NULL CHECK (jobstatus IN ('INPROGRESS', 'COMPLETED', 'FAILED')),
    typeofjob           TEXT NOT NULL CHECK (typeofjob IN ('REINDEX', 'LEGACY_INDEX')),
    oldindex            TEXT,
    newindex            TEXT,
    topic               TEXT NOT NULL,
    tenantid            TEXT,
    recordstobeindexed  BIGINT,
    totalrecordsindexed BIGINT NOT NULL DEFAULT 0 CHECK (totalrecordsindexed >= 0),
    totaltimetakeninms  BIGINT NOT NULL DEFAULT 0,
    reason              TEXT,
    createdby           TEXT,
    lastmodifiedby      TEXT,
    createdtime         BIGINT NOT NULL,
    lastmodifiedtime    BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS eg_indexer_job_tenant_time ON eg_indexer_job (tenantid, createdtime DESC);
