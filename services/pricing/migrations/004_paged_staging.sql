-- A source read page by page (Azure Retail Prices) is staged a page at a time, and where the
-- next page is kept with the rows, in the same transaction: a sync that fails on page N
-- resumes at page N with pages 1..N-1 already staged. Since when each price holds is kept
-- too: Azure may list one meter twice, and the newer price wins.

ALTER TABLE regions
  ADD COLUMN staging_version text,
  ADD COLUMN staging_next_page text,
  ADD COLUMN staging_pages integer NOT NULL DEFAULT 0,
  ADD COLUMN staging_items integer NOT NULL DEFAULT 0,
  ADD COLUMN staging_problems jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN staging_problem_count integer NOT NULL DEFAULT 0,
  ADD COLUMN staging_bytes bigint NOT NULL DEFAULT 0;

ALTER TABLE terms ADD COLUMN effective_start timestamptz;

CREATE OR REPLACE VIEW catalogue AS
SELECT p.cloud, p.region, p.instance_type, p.instance_family, p.operating_system, p.tenancy, p.license_model,
       p.pre_installed_software, p.capacity_status, t.term, t.currency, t.hourly, t.upfront, t.lease_years,
       t.purchase_option, t.offering_class, p.vcpu, p.memory_gib, p.gpu, p.storage, p.network, p.sku,
       r.current_version AS version, r.publication_date, t.effective_start
  FROM regions r
  JOIN products p ON p.cloud = r.cloud AND p.region = r.region AND p.version = r.current_version
  JOIN terms t ON t.cloud = p.cloud AND t.region = p.region AND t.version = p.version AND t.sku = p.sku;

CREATE OR REPLACE VIEW default_catalogue AS
SELECT * FROM catalogue
 WHERE operating_system = 'Linux' AND tenancy = 'Shared' AND capacity_status = 'Used'
   AND pre_installed_software = 'NA' AND term = 'on-demand';
