-- IFMS (JIT) adapter tables (services/ifms-adapter). Upstream's table and column names
-- (spec upstream-ifms-sor.md A2.5, Flyway history `ifms_adapter_schema`) so that an operator
-- can move rows across, with the fixes of part C.1:
-- * money is NUMERIC without the (12,2) cap (item 28);
-- * every allotment, PI number and PI debit/reversal is unique (items 2, 20): VA applied
--   twice, a PI posted twice or a refund made twice is a constraint violation, not a bug;
-- * at most one PI of a payment is in flight (INITIATED, APPROVED, IN_PROCESS, SUCCESSFUL)
--   at any time, enforced by a partial unique index (items 1, 19, 20);
-- * statuses are stored as codes (`IN_PROCESS`, not "IN PROCESS"; beneficiary `SUCCESS`, not
--   "Payment Successful") and mapped to upstream's text at the edge (item 25);
-- * each PI keeps the exact `jitBillDate` it was posted with, its sanction, head of account,
--   DDO and SSU, its original and previous PI (item 14) and whether JIT acknowledged it.
-- Times are epoch milliseconds.

CREATE TABLE jit_sanction_details (
    id                VARCHAR(256) PRIMARY KEY,
    tenantid          VARCHAR(64)  NOT NULL,
    hoacode           VARCHAR(64)  NOT NULL,
    ddocode           VARCHAR(64)  NOT NULL,
    masterallotmentid VARCHAR(64)  NOT NULL,
    sanctionedamount  NUMERIC      NOT NULL,
    financialyear     VARCHAR(64),
    additionaldetails JSONB,
    programcode       VARCHAR(64),
    createdtime       BIGINT       NOT NULL,
    createdby         VARCHAR(256),
    lastmodifiedtime  BIGINT       NOT NULL,
    lastmodifiedby    VARCHAR(256),
    -- One sanction per master allotment (an Initial Allotment seen twice creates nothing).
    CONSTRAINT jit_sanction_master_unique UNIQUE (tenantid, hoacode, ddocode, masterallotmentid)
);
CREATE INDEX jit_sanction_lookup ON jit_sanction_details (tenantid, ddocode, hoacode, lastmodifiedtime DESC);

-- The balances of a sanction. They change only by guarded relative updates written together
-- with the allotment or transaction row that explains them.
CREATE TABLE jit_funds_summary (
    id                VARCHAR(256) PRIMARY KEY,
    tenantid          VARCHAR(64)  NOT NULL,
    sanctionid        VARCHAR(256) NOT NULL UNIQUE REFERENCES jit_sanction_details (id),
    allottedamount    NUMERIC      NOT NULL,
    availableamount   NUMERIC      NOT NULL,
    additionaldetails JSONB,
    createdtime       BIGINT       NOT NULL,
    createdby         VARCHAR(256),
    lastmodifiedtime  BIGINT       NOT NULL,
    lastmodifiedby    VARCHAR(256)
);

CREATE TABLE jit_allotment_details (
    id                       VARCHAR(256) PRIMARY KEY,
    tenantid                 VARCHAR(64)  NOT NULL,
    sanctionid               VARCHAR(256) NOT NULL REFERENCES jit_sanction_details (id),
    allotmentserialno        INT          NOT NULL,
    ssuallotmentid           VARCHAR(64)  NOT NULL,
    allotmentamount          NUMERIC      NOT NULL,
    allotmenttransactiontype VARCHAR(64)  NOT NULL,
    sanctionbalance          NUMERIC,
    allotmentdate            BIGINT,
    additionaldetails        JSONB,
    programcode              VARCHAR(64),
    createdtime              BIGINT       NOT NULL,
    createdby                VARCHAR(256),
    lastmodifiedtime         BIGINT       NOT NULL,
    lastmodifiedby           VARCHAR(256),
    -- The unit of VA idempotency (C.1 item 2): an allotment is applied once.
    CONSTRAINT jit_allotment_unique UNIQUE (tenantid, ssuallotmentid)
);
CREATE INDEX jit_allotment_sanction ON jit_allotment_details (sanctionid, allotmentserialno);

-- VA items whose master allotment (sanction) is not known yet: kept, not dropped, and applied
-- by a later VA run once their Initial Allotment arrived.
CREATE TABLE jit_unmatched_allotments (
    id                 VARCHAR(256) PRIMARY KEY,
    tenantid           VARCHAR(64)  NOT NULL,
    hoacode            VARCHAR(64)  NOT NULL,
    ddocode            VARCHAR(64)  NOT NULL,
    masterallotmentid  VARCHAR(64)  NOT NULL,
    ssuallotmentid     VARCHAR(64)  NOT NULL,
    allotment          JSONB        NOT NULL,
    createdtime        BIGINT       NOT NULL,
    CONSTRAINT jit_unmatched_unique UNIQUE (tenantid, ssuallotmentid)
);

CREATE TABLE jit_executed_va_logs (
    id                VARCHAR(256) PRIMARY KEY,
    tenantid          VARCHAR(64)  NOT NULL,
    hoacode           VARCHAR(64)  NOT NULL,
    ddocode           VARCHAR(64)  NOT NULL,
    granteecode       VARCHAR(64)  NOT NULL,
    lastexecuted      BIGINT       NOT NULL,
    additionaldetails JSONB,
    createdtime       BIGINT       NOT NULL,
    createdby         VARCHAR(256),
    lastmodifiedtime  BIGINT       NOT NULL,
    lastmodifiedby    VARCHAR(256),
    CONSTRAINT jit_va_log_unique UNIQUE (tenantid, hoacode, ddocode, granteecode)
);

CREATE TABLE jit_payment_inst_details (
    id                VARCHAR(256) PRIMARY KEY,
    tenantid          VARCHAR(64)  NOT NULL,
    pinumber          VARCHAR(256) NOT NULL,
    parentpinumber    VARCHAR(256),
    muktareferenceid  VARCHAR(256) NOT NULL,
    numbeneficiaries  INT          NOT NULL,
    grossamount       NUMERIC      NOT NULL,
    netamount         NUMERIC      NOT NULL,
    pistatus          VARCHAR(64)  NOT NULL,
    pisuccesscode     VARCHAR(256),
    pisuccessdesc     VARCHAR(256),
    piapprovedid      VARCHAR(256),
    piapprovaldate    VARCHAR(256),
    pierrorresp       TEXT,
    additionaldetails JSONB,
    isactive          BOOLEAN      NOT NULL DEFAULT TRUE,
    programcode       VARCHAR(64),
    -- Ours (C.1 items 5, 14, 27).
    pitype            VARCHAR(16)  NOT NULL CHECK (pitype IN ('ORIGINAL', 'REVISED')),
    originalpiid      VARCHAR(256),
    previouspiid      VARCHAR(256),
    sanctionid        VARCHAR(256) REFERENCES jit_sanction_details (id),
    hoacode           VARCHAR(64),
    ddocode           VARCHAR(64),
    ssuiaid           VARCHAR(64),
    jitbilldate       VARCHAR(32)  NOT NULL,
    -- false until JIT acknowledged the PI (or COR); a PI left unposted by a crash is
    -- posted again by the PIS job (JIT answers a repeated bill number as a duplicate).
    jitposted         BOOLEAN      NOT NULL DEFAULT FALSE,
    -- The iFIX disbursement the PI was made from, without PII (disbursement path).
    disbursement      JSONB,
    -- The JIT request (PI or COR params) as posted, encrypted (it names the payees and
    -- their accounts); posted again unchanged when the first post had no answer.
    jitrequest        TEXT,
    createdtime       BIGINT       NOT NULL,
    createdby         VARCHAR(256),
    lastmodifiedtime  BIGINT       NOT NULL,
    lastmodifiedby    VARCHAR(256),
    CONSTRAINT jit_pi_number_unique UNIQUE (tenantid, pinumber),
    CONSTRAINT jit_pi_status_code CHECK (pistatus IN
        ('INITIATED', 'APPROVED', 'IN_PROCESS', 'SUCCESSFUL', 'PARTIAL', 'COMPLETED', 'FAILED'))
);
-- One PI of a payment in flight at a time (C.1 items 19, 20): a second PI for the same
-- payment can exist only once the first has FAILED, ended PARTIAL or been COMPLETED.
CREATE UNIQUE INDEX jit_pi_one_in_flight ON jit_payment_inst_details (tenantid, muktareferenceid)
    WHERE pistatus IN ('INITIATED', 'APPROVED', 'IN_PROCESS', 'SUCCESSFUL');
CREATE INDEX jit_pi_reference ON jit_payment_inst_details (tenantid, muktareferenceid, createdtime DESC);
CREATE INDEX jit_pi_status ON jit_payment_inst_details (pistatus, pitype, createdtime);
CREATE INDEX jit_pi_parent ON jit_payment_inst_details (tenantid, parentpinumber);
CREATE INDEX jit_pi_created ON jit_payment_inst_details (tenantid, createdtime DESC);

CREATE TABLE jit_payment_advice_details (
    id                VARCHAR(256) PRIMARY KEY,
    tenantid          VARCHAR(64)  NOT NULL,
    muktareferenceid  VARCHAR(256),
    piid              VARCHAR(256) NOT NULL UNIQUE REFERENCES jit_payment_inst_details (id),
    pabillrefnumber   VARCHAR(256),
    pafinyear         VARCHAR(64),
    paadviceid        VARCHAR(256),
    paadvicedate      VARCHAR(64),
    patokennumber     VARCHAR(64),
    patokendate       VARCHAR(64),
    paerrormsg        TEXT,
    additionaldetails JSONB,
    createdtime       BIGINT       NOT NULL,
    createdby         VARCHAR(256),
    lastmodifiedtime  BIGINT       NOT NULL,
    lastmodifiedby    VARCHAR(256)
);

CREATE TABLE jit_beneficiary_details (
    id                   VARCHAR(256) PRIMARY KEY,
    tenantid             VARCHAR(64)  NOT NULL,
    muktareferenceid     VARCHAR(256),
    piid                 VARCHAR(256) NOT NULL REFERENCES jit_payment_inst_details (id),
    beneficiaryid        VARCHAR(256),
    beneficiarytype      VARCHAR(256),
    beneficiarynumber    VARCHAR(64)  NOT NULL,
    -- `account@IFSC`, encrypted (digit_store::PiiCipher).
    bankaccountcode      VARCHAR(512),
    amount               NUMERIC      NOT NULL,
    vouchernumber        VARCHAR(256),
    voucherdate          BIGINT,
    utrno                VARCHAR(256),
    utrdate              VARCHAR(64),
    endtoendid           VARCHAR(256),
    challannumber        VARCHAR(256),
    challandate          VARCHAR(64),
    paymentstatus        VARCHAR(64)  NOT NULL CHECK (paymentstatus IN
        ('PENDING', 'INITIATED', 'IN_PROCESS', 'SUCCESS', 'FAILED')),
    paymentstatusmessage TEXT,
    additionaldetails    JSONB,
    createdtime          BIGINT       NOT NULL,
    createdby            VARCHAR(256),
    lastmodifiedtime     BIGINT       NOT NULL,
    lastmodifiedby       VARCHAR(256),
    CONSTRAINT jit_beneficiary_number_unique UNIQUE (piid, beneficiarynumber)
);
CREATE INDEX jit_beneficiary_pi ON jit_beneficiary_details (piid);

CREATE TABLE jit_beneficiary_lineitems (
    id               VARCHAR(256) PRIMARY KEY,
    beneficiaryid    VARCHAR(256) NOT NULL REFERENCES jit_beneficiary_details (id),
    lineitemid       VARCHAR(256) NOT NULL,
    createdtime      BIGINT       NOT NULL,
    createdby        VARCHAR(256),
    lastmodifiedtime BIGINT       NOT NULL,
    lastmodifiedby   VARCHAR(256)
);
CREATE INDEX jit_lineitem_beneficiary ON jit_beneficiary_lineitems (beneficiaryid);

-- The funds ledger: availableamount of a sanction = allotted − Σ DEBIT + Σ REVERSAL.
CREATE TABLE jit_transaction_details (
    id                VARCHAR(256) PRIMARY KEY,
    tenantid          VARCHAR(64)  NOT NULL,
    sanctionid        VARCHAR(256) NOT NULL REFERENCES jit_sanction_details (id),
    paymentinstid     VARCHAR(256) NOT NULL REFERENCES jit_payment_inst_details (id),
    transactionamount NUMERIC      NOT NULL CHECK (transactionamount > 0),
    transactiondate   BIGINT       NOT NULL,
    transactiontype   VARCHAR(256) NOT NULL CHECK (transactiontype IN ('DEBIT', 'REVERSAL')),
    additionaldetails JSONB,
    createdtime       BIGINT       NOT NULL,
    createdby         VARCHAR(256),
    lastmodifiedtime  BIGINT       NOT NULL,
    lastmodifiedby    VARCHAR(256),
    -- A PI is debited once and reversed at most once.
    CONSTRAINT jit_transaction_once UNIQUE (paymentinstid, transactiontype)
);
CREATE INDEX jit_transaction_sanction ON jit_transaction_details (sanctionid);

CREATE TABLE jit_pi_status_logs (
    id                VARCHAR(256) PRIMARY KEY,
    piid              VARCHAR(256) NOT NULL REFERENCES jit_payment_inst_details (id),
    serviceid         VARCHAR(64)  NOT NULL,
    status            VARCHAR(256) NOT NULL,
    additionaldetails JSONB,
    createdtime       BIGINT       NOT NULL,
    createdby         VARCHAR(256),
    lastmodifiedtime  BIGINT       NOT NULL,
    lastmodifiedby    VARCHAR(256)
);
CREATE INDEX jit_status_log_pi ON jit_pi_status_logs (piid, createdtime DESC);
