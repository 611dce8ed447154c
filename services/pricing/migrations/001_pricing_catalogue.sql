-- The price catalogue. An offer file is streamed into the staging of its version (products and
-- terms as they come, the file never held), then the region's pointer moves to that version in
-- one transaction: readers see the previous version whole until then, and a sync cut short
-- leaves only staging rows behind, deleted by the next sync of that region.

-- Per cloud and region: the version readers see, and how the last sync went.
CREATE TABLE regions (
  cloud text NOT NULL,
  region text NOT NULL,
  current_version text,
  publication_date timestamptz,
  etag text,
  synced_at timestamptz,
  last_result text NOT NULL DEFAULT 'never' CHECK (last_result IN ('never', 'synced', 'unchanged', 'failed')),
  last_error text,
  rows integer NOT NULL DEFAULT 0,
  problems jsonb NOT NULL DEFAULT '[]',
  PRIMARY KEY (cloud, region)
);

-- What an instance is, per version of its region's offer (a product of the file).
CREATE TABLE products (
  cloud text NOT NULL,
  region text NOT NULL,
  version text NOT NULL,
  sku text NOT NULL,
  instance_type text NOT NULL,
  instance_family text,
  operating_system text NOT NULL,
  tenancy text NOT NULL,
  license_model text NOT NULL,
  pre_installed_software text NOT NULL,
  capacity_status text NOT NULL,
  vcpu integer,
  memory_gib numeric,
  gpu integer NOT NULL DEFAULT 0,
  storage text,
  network text,
  PRIMARY KEY (cloud, region, version, sku)
);

-- What it costs, per term, as an hourly rate (a reservation's upfront fee spread over its hours).
CREATE TABLE terms (
  cloud text NOT NULL,
  region text NOT NULL,
  version text NOT NULL,
  sku text NOT NULL,
  term text NOT NULL,
  currency text NOT NULL,
  hourly numeric NOT NULL,
  upfront numeric NOT NULL DEFAULT 0,
  lease_years integer,
  purchase_option text,
  offering_class text,
  PRIMARY KEY (cloud, region, version, sku, term)
);

-- The catalogue: every product of each region's current version with each of its terms.
CREATE VIEW catalogue AS
SELECT p.cloud, p.region, p.instance_type, p.instance_family, p.operating_system, p.tenancy, p.license_model,
       p.pre_installed_software, p.capacity_status, t.term, t.currency, t.hourly, t.upfront, t.lease_years,
       t.purchase_option, t.offering_class, p.vcpu, p.memory_gib, p.gpu, p.storage, p.network, p.sku,
       r.current_version AS version, r.publication_date
  FROM regions r
  JOIN products p ON p.cloud = r.cloud AND p.region = r.region AND p.version = r.current_version
  JOIN terms t ON t.cloud = p.cloud AND t.region = p.region AND t.version = p.version AND t.sku = p.sku;

-- What most catalogues show: Linux, shared tenancy, running capacity, no pre-installed software, on-demand.
CREATE VIEW default_catalogue AS
SELECT * FROM catalogue
 WHERE operating_system = 'Linux' AND tenancy = 'Shared' AND capacity_status = 'Used'
   AND pre_installed_software = 'NA' AND term = 'on-demand';
