-- egov-workflow-v2 tables. Rows are written by the persister (configs/persister/
-- egov-workflow-v2-persister.yml and egov-workflow-businessservice-persister.yml);
-- the engine only reads them, except eg_wf_transition_head_v2 which it owns.

CREATE TABLE IF NOT EXISTS eg_wf_businessservice_v2 (
    uuid               varchar(256) PRIMARY KEY,
    tenantid           varchar(256) NOT NULL,
    businessservice    varchar(256) NOT NULL,
    business           varchar(256) NOT NULL,
    geturi             varchar(1024),
    posturi            varchar(1024),
    businessservicesla bigint,
    createdby          varchar(256),
    createdtime        bigint,
    lastmodifiedby     varchar(256),
    lastmodifiedtime   bigint,
    CONSTRAINT uk_eg_wf_businessservice_v2 UNIQUE (tenantid, businessservice)
);

CREATE TABLE IF NOT EXISTS eg_wf_state_v2 (
    seq                bigserial,
    uuid               varchar(256) PRIMARY KEY,
    tenantid           varchar(256) NOT NULL,
    businessserviceid  varchar(256) NOT NULL REFERENCES eg_wf_businessservice_v2 (uuid),
    state              varchar(256),
    applicationstatus  varchar(256),
    sla                bigint,
    docuploadrequired  boolean,
    isstartstate       boolean,
    isterminatestate   boolean,
    isstateupdatable   boolean,
    createdby          varchar(256),
    createdtime        bigint,
    lastmodifiedby     varchar(256),
    lastmodifiedtime   bigint
);
CREATE INDEX IF NOT EXISTS idx_eg_wf_state_v2_bs ON eg_wf_state_v2 (businessserviceid);

CREATE TABLE IF NOT EXISTS eg_wf_action_v2 (
    seq                bigserial,
    uuid               varchar(256) PRIMARY KEY,
    tenantid           varchar(256) NOT NULL,
    currentstate       varchar(256) NOT NULL REFERENCES eg_wf_state_v2 (uuid),
    action             varchar(256) NOT NULL,
    nextstate          varchar(256) NOT NULL,
    roles              varchar(1024) NOT NULL,
    active             boolean DEFAULT true,
    createdby          varchar(256),
    createdtime        bigint,
    lastmodifiedby     varchar(256),
    lastmodifiedtime   bigint
);
CREATE INDEX IF NOT EXISTS idx_eg_wf_action_v2_state ON eg_wf_action_v2 (currentstate);

CREATE TABLE IF NOT EXISTS eg_wf_processinstance_v2 (
    id                 varchar(64) PRIMARY KEY,
    tenantid           varchar(128) NOT NULL,
    businessservice    varchar(256) NOT NULL,
    businessid         varchar(256) NOT NULL,
    action             varchar(256) NOT NULL,
    status             varchar(64),
    comment            varchar(1024),
    assigner           varchar(128),
    statesla           bigint,
    businessservicesla bigint,
    previousstatus     varchar(128),
    modulename         varchar(256),
    rating             integer,
    escalated          boolean DEFAULT false,
    createdby          varchar(128),
    lastmodifiedby     varchar(128),
    createdtime        bigint,
    lastmodifiedtime   bigint
);
-- Latest instance per application, history, inbox (status), and escalation scans.
CREATE INDEX IF NOT EXISTS idx_eg_wf_pi_v2_business ON eg_wf_processinstance_v2 (tenantid, businessid, createdtime DESC);
CREATE INDEX IF NOT EXISTS idx_eg_wf_pi_v2_status ON eg_wf_processinstance_v2 (status);
CREATE INDEX IF NOT EXISTS idx_eg_wf_pi_v2_bs ON eg_wf_processinstance_v2 (businessservice, tenantid);

CREATE TABLE IF NOT EXISTS eg_wf_document_v2 (
    id                 varchar(64) PRIMARY KEY,
    tenantid           varchar(128),
    processinstanceid  varchar(64) REFERENCES eg_wf_processinstance_v2 (id),
    documenttype       varchar(128),
    filestoreid        varchar(128),
    documentuid        varchar(128),
    createdby          varchar(128),
    lastmodifiedby     varchar(128),
    createdtime        bigint,
    lastmodifiedtime   bigint
);
CREATE INDEX IF NOT EXISTS idx_eg_wf_document_v2_pi ON eg_wf_document_v2 (processinstanceid);

CREATE TABLE IF NOT EXISTS eg_wf_assignee_v2 (
    processinstanceid  varchar(64) REFERENCES eg_wf_processinstance_v2 (id),
    tenantid           varchar(128),
    assignee           varchar(128),
    createdby          varchar(128),
    lastmodifiedby     varchar(128),
    createdtime        bigint,
    lastmodifiedtime   bigint
);
CREATE INDEX IF NOT EXISTS idx_eg_wf_assignee_v2_pi ON eg_wf_assignee_v2 (processinstanceid);
CREATE INDEX IF NOT EXISTS idx_eg_wf_assignee_v2_assignee ON eg_wf_assignee_v2 (assignee);

-- The engine's own table: one row per application, the version it is at and the last
-- instance it accepted (with where that instance sits in Kafka). A transition claims the
-- next version with a compare-and-set on this row, so two transitions that read the same
-- state cannot both be accepted; a transition whose predecessor is not yet in
-- eg_wf_processinstance_v2 waits for the persister's commit of that Kafka offset first.
CREATE TABLE IF NOT EXISTS eg_wf_transition_head_v2 (
    tenantid           varchar(128) NOT NULL,
    businessid         varchar(256) NOT NULL,
    version            bigint       NOT NULL,
    instanceid         varchar(64)  NOT NULL,
    topic              varchar(256) NOT NULL,
    kafkapartition     integer      NOT NULL,
    kafkaoffset        bigint       NOT NULL,
    lastmodifiedtime   bigint       NOT NULL,
    PRIMARY KEY (tenantid, businessid)
);
