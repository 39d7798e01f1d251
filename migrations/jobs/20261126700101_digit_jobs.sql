-- Periodic jobs (crates/digit-jobs): the last tick each job ran for, so that a tick runs on
-- exactly one replica even when replicas' timers fire at slightly different moments.
-- Times are epoch milliseconds.
CREATE TABLE IF NOT EXISTS digit_job_ticks (
    job           TEXT PRIMARY KEY,
    last_tick     BIGINT NOT NULL,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    last_error    TEXT
);
