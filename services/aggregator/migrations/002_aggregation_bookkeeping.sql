-- Every batch of deltas applied to merchant_usage, inserted in the same transaction as its
-- deltas: a batch replayed after a crash finds its id here and is skipped.
CREATE TABLE aggregation_batches (
  batch_id   text        PRIMARY KEY,
  counters   integer     NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX aggregation_batches_applied_at ON aggregation_batches (applied_at);

-- One row per run, completed or failed, for status and history.
CREATE TABLE aggregation_runs (
  run_id            uuid        PRIMARY KEY,
  date              date        NOT NULL,
  merchant_id       text,
  status            text        NOT NULL CHECK (status IN ('completed', 'failed')),
  attempt           integer     NOT NULL,
  started_at        timestamptz NOT NULL,
  finished_at       timestamptz NOT NULL,
  duration_ms       integer     NOT NULL,
  keys_read         bigint      NOT NULL,
  rows_written      bigint      NOT NULL,
  recovered_batches integer     NOT NULL,
  error_count       bigint      NOT NULL,
  errors            jsonb       NOT NULL,
  error_class       text,
  error_message     text
);

CREATE INDEX aggregation_runs_date ON aggregation_runs (date, finished_at DESC);
