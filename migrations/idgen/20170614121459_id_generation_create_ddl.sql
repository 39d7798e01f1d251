-- Upstream egov-idgen V20170614121459__DDL_id_generation_create_ddl.sql: the table of id
-- formats used when IDFORMAT_FROM_MDMS=false (lookup by idname + tenantid).
CREATE TABLE IF NOT EXISTS id_generator
(
    id bigserial NOT NULL,
    idname character varying(200) NOT NULL,
    tenantid character varying(200) NOT NULL,
    format character varying(200) NOT NULL,
    sequencenumber integer NOT NULL,

    CONSTRAINT pk_id_generator PRIMARY KEY (id)
);
