-- Several services may share one database (make up runs the department's program service
-- and exchange on one): each relay claims only the rows its own service wrote.
ALTER TABLE digit_outbox ADD COLUMN IF NOT EXISTS source TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS digit_outbox_due_by_source
    ON digit_outbox (source, next_attempt_at, id) WHERE status = 'pending';
