-- Disbursement children keep the order in which they arrived (searches list a payment's
-- lines in that order; their ids are random UUIDs and they share one created_time).
-- Parents have line_no 0.
ALTER TABLE eg_program_disburse ADD COLUMN line_no INTEGER NOT NULL DEFAULT 0;
