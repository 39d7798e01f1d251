-- Kafka offsets the persister has applied, stored in the same transaction as the rows
-- (exactly-once effect): a message is persisted iff its offset < next_offset of its
-- (consumer group, topic, partition). Services await their writes against this table.
CREATE TABLE IF NOT EXISTS persister_offsets (
    consumer_group  TEXT        NOT NULL,
    topic           TEXT        NOT NULL,
    kafka_partition INTEGER     NOT NULL,
    next_offset     BIGINT      NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT persister_offsets_pk PRIMARY KEY (consumer_group, topic, kafka_partition)
);
