-- Upstream egov-idgen V20181030123635__DELETE_DUPLICATES_AND_ALTER_PRIMARYKEY_ID_GEN_ddl.sql:
-- one format per (idname, tenantid).
DELETE FROM id_generator WHERE id IN (
    SELECT gen.id FROM id_generator gen
    INNER JOIN (SELECT count(*) AS count, tenantid, idname FROM id_generator GROUP BY idname, tenantid) gencount
        ON gen.idname = gencount.idname AND gen.tenantid = gencount.tenantid
    WHERE gencount.count > 1
);

ALTER TABLE id_generator DROP CONSTRAINT pk_id_generator;

ALTER TABLE id_generator ADD CONSTRAINT pk_id_generator PRIMARY KEY (idname, tenantid);
