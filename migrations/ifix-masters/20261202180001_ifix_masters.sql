-- iFIX master data: upstream's tables (ifix-master-data-service, adapter-master-data-service,
-- ifix-department-entity-service), with the integrity upstream only checks in code (and races):
-- uniqueness per tenant, one root and a linear chain of hierarchy levels per department, one
-- active parent per department entity.

-- Chart of accounts. Upstream: coacode UNIQUE across tenants but checked per tenant.
CREATE TABLE IF NOT EXISTS eg_ifix_chartofaccount (
    id               varchar(64)  PRIMARY KEY,
    tenantid         varchar(64)  NOT NULL,
    coacode          varchar(64)  NOT NULL,
    majorhead        varchar(4)   NOT NULL,
    majorheadname    varchar(64),
    majorheadtype    varchar(32),
    submajorhead     varchar(2)   NOT NULL,
    submajorheadname varchar(64),
    minorhead        varchar(3)   NOT NULL,
    minorheadname    varchar(64),
    subhead          varchar(2)   NOT NULL,
    subheadname      varchar(64),
    grouphead        varchar(2)   NOT NULL,
    groupheadname    varchar(64),
    objecthead       varchar(2)   NOT NULL,
    objectheadname   varchar(64),
    attributes       jsonb,
    createdtime      bigint,
    createdby        varchar(256),
    lastmodifiedtime bigint,
    lastmodifiedby   varchar(256),
    CONSTRAINT uk_eg_ifix_chartofaccount_tenant_coacode UNIQUE (tenantid, coacode)
);
CREATE INDEX IF NOT EXISTS idx_eg_ifix_coa_majorhead ON eg_ifix_chartofaccount (tenantid, majorhead);
CREATE INDEX IF NOT EXISTS idx_eg_ifix_coa_minorhead ON eg_ifix_chartofaccount (tenantid, minorhead);
CREATE INDEX IF NOT EXISTS idx_eg_ifix_coa_subhead ON eg_ifix_chartofaccount (tenantid, subhead);

-- Departments (adapter-master-data).
CREATE TABLE IF NOT EXISTS department (
    id                 varchar(255) PRIMARY KEY,
    code               varchar(255) NOT NULL,
    created_by         varchar(255),
    created_time       bigint,
    is_nodal           boolean,
    last_modified_by   varchar(255),
    last_modified_time bigint,
    name               varchar(255),
    parent             varchar(255),
    tenant_id          varchar(255) NOT NULL,
    CONSTRAINT uk_department_tenant_code UNIQUE (tenant_id, code)
);

CREATE TABLE IF NOT EXISTS expenditure (
    id                 varchar(255) PRIMARY KEY,
    code               varchar(255) NOT NULL,
    created_by         varchar(255),
    created_time       bigint,
    department_id      varchar(255),
    last_modified_by   varchar(255),
    last_modified_time bigint,
    name               varchar(256),
    tenant_id          varchar(255) NOT NULL,
    type               varchar(255),
    CONSTRAINT uk_expenditure_tenant_code UNIQUE (tenant_id, code)
);

CREATE TABLE IF NOT EXISTS project (
    id                 varchar(255) PRIMARY KEY,
    code               varchar(255) NOT NULL,
    created_by         varchar(255),
    created_time       bigint,
    expenditure_id     varchar(255),
    last_modified_by   varchar(255),
    last_modified_time bigint,
    name               varchar(255),
    tenant_id          varchar(255) NOT NULL,
    CONSTRAINT uk_project_tenant_code UNIQUE (tenant_id, code)
);

CREATE TABLE IF NOT EXISTS project_department_entity_relationship (
    project_id           varchar(64) NOT NULL REFERENCES project (id),
    department_entity_id varchar(64) NOT NULL,
    status               boolean     NOT NULL DEFAULT true,
    PRIMARY KEY (project_id, department_entity_id)
);
CREATE INDEX IF NOT EXISTS idx_project_de_rel_entity ON project_department_entity_relationship (department_entity_id);

CREATE TABLE IF NOT EXISTS project_location_relationship (
    project_id  varchar(64) NOT NULL REFERENCES project (id),
    location_id varchar(64) NOT NULL,
    status      boolean     NOT NULL DEFAULT true,
    PRIMARY KEY (project_id, location_id)
);
CREATE INDEX IF NOT EXISTS idx_project_location_rel_location ON project_location_relationship (location_id);

-- Department hierarchy levels: a linear chain per (tenant, department). The unique index
-- makes "one root" (parent NULL) and "one child per level" database facts.
CREATE TABLE IF NOT EXISTS department_hierarchy_level (
    id                 varchar(255) PRIMARY KEY,
    created_by         varchar(255),
    created_time       bigint,
    department_id      varchar(64)  NOT NULL,
    label              varchar(255) NOT NULL,
    last_modified_by   varchar(255),
    last_modified_time bigint,
    level              integer      NOT NULL CHECK (level >= 0),
    parent             varchar(64)  REFERENCES department_hierarchy_level (id),
    tenant_id          varchar(64)  NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uk_department_hierarchy_level_chain
    ON department_hierarchy_level (tenant_id, department_id, (coalesce(parent, '')));
CREATE UNIQUE INDEX IF NOT EXISTS uk_department_hierarchy_level_level
    ON department_hierarchy_level (tenant_id, department_id, level);

-- Department entities and their parent → child links (status false = removed).
CREATE TABLE IF NOT EXISTS department_entity (
    id                 varchar(255) PRIMARY KEY,
    code               varchar(256) NOT NULL,
    created_by         varchar(255),
    created_time       bigint,
    department_id      varchar(64)  NOT NULL,
    hierarchy_level    integer      NOT NULL CHECK (hierarchy_level >= 0),
    last_modified_by   varchar(255),
    last_modified_time bigint,
    name               varchar(256) NOT NULL,
    tenant_id          varchar(64)  NOT NULL,
    CONSTRAINT uk_department_entity_code UNIQUE (tenant_id, department_id, code)
);
CREATE INDEX IF NOT EXISTS idx_department_entity_department ON department_entity (tenant_id, department_id, hierarchy_level);

CREATE TABLE IF NOT EXISTS department_entity_children (
    parent_id varchar(64) NOT NULL REFERENCES department_entity (id),
    child_id  varchar(64) NOT NULL REFERENCES department_entity (id),
    status    boolean     NOT NULL DEFAULT true,
    PRIMARY KEY (parent_id, child_id),
    CHECK (parent_id <> child_id)
);
-- One active parent per entity: ancestry is a path, never a choice (upstream answers
-- DE_PARENT_SEARCH_ERROR when it finds two).
CREATE UNIQUE INDEX IF NOT EXISTS uk_department_entity_children_one_parent
    ON department_entity_children (child_id) WHERE status;
