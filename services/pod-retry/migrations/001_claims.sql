-- Claims whose proof of delivery (POD) is fetched from their carrier, and every attempt at it.
-- A claim's id is the client's own, so registering it twice is one row.

CREATE TABLE claims (
  claim_id text PRIMARY KEY,
  client_id text NOT NULL,
  carrier text NOT NULL,
  tracking_number text NOT NULL,
  pod_status text NOT NULL DEFAULT 'pending' CHECK (pod_status IN ('pending', 'fetching', 'success', 'failed', 'gave_up')),
  -- Where the POD document is once fetched: s3://bucket/key, its content type and SHA-256.
  pod_location text,
  pod_content_type text,
  pod_sha256 text,
  attempts integer NOT NULL DEFAULT 0,
  last_attempt_at timestamptz,
  last_error_class text CHECK (last_error_class IN ('persistent', 'temporary')),
  last_error_code text,
  last_error_message text,
  next_attempt_at timestamptz,
  registered_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The ticks' queries: pending claims in the order registered, failed ones by when they are due.
CREATE INDEX claims_pending ON claims (registered_at, claim_id) WHERE pod_status = 'pending';
CREATE INDEX claims_due ON claims (next_attempt_at, claim_id) WHERE pod_status = 'failed';
CREATE INDEX claims_by_status ON claims (pod_status, claim_id);

-- A claim's story: each attempt (and each deferral, which is not one) with its outcome.
CREATE TABLE attempts (
  claim_id text NOT NULL REFERENCES claims ON DELETE CASCADE,
  seq bigserial,
  attempt integer NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('success', 'failed', 'deferred', 'gave_up', 'reset')),
  error_class text,
  error_code text,
  error_message text,
  trace_id text,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (claim_id, seq)
);
