-- The latest instance of an application is found by
-- ORDER BY lastmodifiedtime DESC, createdtime DESC, id DESC LIMIT 1 within (tenantid, businessid)
-- (the search's "latest per application" subquery, the transition's current instance):
-- with this index it is the first entry of the application's range instead of a sort of
-- all its instances. It covers (tenantid, businessid) lookups too, so it replaces the
-- createdtime index.
CREATE INDEX IF NOT EXISTS idx_eg_wf_pi_v2_latest
    ON eg_wf_processinstance_v2 (tenantid, businessid, lastmodifiedtime DESC, createdtime DESC, id DESC);
DROP INDEX IF EXISTS idx_eg_wf_pi_v2_business;
