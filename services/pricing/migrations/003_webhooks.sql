-- Subscribers to price changes: where to POST, the secret the body is signed with (shown once,
-- when the webhook is registered), and which changes it wants. An empty filter list is "all".
CREATE TABLE webhooks (
  id uuid PRIMARY KEY,
  url text NOT NULL,
  secret text NOT NULL,
  clouds text[] NOT NULL DEFAULT '{}',
  regions text[] NOT NULL DEFAULT '{}',
  instance_families text[] NOT NULL DEFAULT '{}',
  min_percent numeric NOT NULL DEFAULT 0 CHECK (min_percent >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
