-- Who is fetching a claim, and which message carries it: a fetch begins only when the claim
-- is not being fetched (or its fetcher's lease ran out: a process killed mid-fetch), so two
-- replicas, or a message delivered twice, never fetch one claim at once; and the hourly sweep
-- sends a message only for failed claims no message carries.
ALTER TABLE claims
  ADD COLUMN fetch_started_at timestamptz,
  ADD COLUMN fetched_by text,
  ADD COLUMN carried_by text;
