-- Daily usage per merchant and metric: the long-term record that billing and analytics read.
-- metric_value only ever grows by the deltas moved out of Redis (see the README).
CREATE TABLE merchant_usage (
  merchant_id  text        NOT NULL,
  date         date        NOT NULL,
  metric_type  text        NOT NULL,
  metric_value bigint      NOT NULL CHECK (metric_value >= 0),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  -- Date first: the aggregator writes one date at a time and status reads one date, so a
  -- single index serves both (a second one on date alone cost the writes a third of their speed).
  CONSTRAINT merchant_usage_counter UNIQUE (date, merchant_id, metric_type)
);
