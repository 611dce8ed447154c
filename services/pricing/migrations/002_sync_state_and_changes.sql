-- What a region's last sync found, kept with the version it made current, so a sync that dies
-- after the switch but before its events went out announces them on redelivery; and each
-- price change, kept as the history of a row.

ALTER TABLE regions
  ADD COLUMN announced_version text,
  ADD COLUMN previous_version text,
  ADD COLUMN changes integer NOT NULL DEFAULT 0,
  ADD COLUMN bytes bigint NOT NULL DEFAULT 0,
  ADD COLUMN duration_ms bigint NOT NULL DEFAULT 0,
  ADD COLUMN missing_attributes jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN problem_count integer NOT NULL DEFAULT 0;

-- A catalogue row (sku and term) that differs between two versions of a region, as found when
-- the newer one became current.
CREATE TABLE price_changes (
  cloud text NOT NULL,
  region text NOT NULL,
  version text NOT NULL,
  previous_version text NOT NULL,
  sku text NOT NULL,
  term text NOT NULL,
  instance_type text NOT NULL,
  operating_system text NOT NULL,
  tenancy text NOT NULL,
  license_model text NOT NULL,
  pre_installed_software text NOT NULL,
  capacity_status text NOT NULL,
  currency text NOT NULL,
  change text NOT NULL CHECK (change IN ('added', 'removed', 'up', 'down')),
  old_hourly numeric,
  new_hourly numeric,
  percent numeric,
  detected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cloud, region, version, sku, term)
);

CREATE INDEX price_changes_history ON price_changes (cloud, region, instance_type, detected_at);
