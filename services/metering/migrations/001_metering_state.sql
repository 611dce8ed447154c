-- What the original kept in its JSON state file, per plan and month: the contracts sent (with
-- Clazar's result ids), the contracts in error with the exact payload that failed, and the
-- last month processed.

CREATE TABLE plan_progress (
  plan text PRIMARY KEY,
  last_processed_month text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plan_months (
  plan text NOT NULL,
  month text NOT NULL,
  -- sending: contracts fanned out, some without an outcome yet; completed: all have one;
  -- failed: the month could not be computed (a malformed file), nothing sent; dry_run: computed only.
  status text NOT NULL CHECK (status IN ('sending', 'completed', 'failed', 'dry_run')),
  files integer NOT NULL DEFAULT 0,
  records_read bigint NOT NULL DEFAULT 0,
  records_skipped bigint NOT NULL DEFAULT 0,
  skipped_by_reason jsonb NOT NULL DEFAULT '{}',
  error text,
  computed_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  PRIMARY KEY (plan, month)
);

CREATE TABLE contract_months (
  plan text NOT NULL,
  month text NOT NULL,
  contract_id text NOT NULL,
  -- pending: to send; sent: Clazar has every line (or warned about it); error: Clazar refused
  -- lines, kept in payload for a re-send; skipped: a formula could not be computed; dry_run.
  status text NOT NULL CHECK (status IN ('pending', 'sent', 'error', 'skipped', 'dry_run')),
  -- Every line computed for the month: [{dimension, quantity}].
  bill jsonb NOT NULL,
  -- The Clazar request still to make ({"request": [...]}): the whole bill at first, the refused lines after an error.
  payload jsonb,
  -- Accepted lines: [{dimension, quantity, resultId, duplicate}].
  accepted jsonb NOT NULL DEFAULT '[]',
  warnings jsonb NOT NULL DEFAULT '[]',
  skip_reason text,
  errors jsonb NOT NULL DEFAULT '[]',
  code text,
  message text,
  -- Requests made that got an answer: the side-effect ledger's key counts them, so a message made before the last one is seen as handled.
  sends integer NOT NULL DEFAULT 0,
  retry_count integer NOT NULL DEFAULT 0,
  last_retry_at timestamptz,
  sent_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (plan, month, contract_id)
);

CREATE INDEX contract_months_in_error ON contract_months (plan, month) WHERE status = 'error';
CREATE INDEX contract_months_pending ON contract_months (plan, month) WHERE status = 'pending';
