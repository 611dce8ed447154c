// Pricing's own metrics, beside the messaging ones on /metrics.
import { Counter, Histogram, Registry } from 'prom-client';

export class PricingMetrics {
  readonly registry = new Registry();
  readonly rowsParsed = new Counter({
    name: 'tickflow_pricing_rows_parsed_total',
    help: 'Products and term rates read from offer files and staged, by kind (product, rate)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly bytesRead = new Counter({
    name: 'tickflow_pricing_bytes_read_total',
    help: 'Bytes of offer files received',
    registers: [this.registry],
  });
  readonly changes = new Counter({
    name: 'tickflow_pricing_changes_total',
    help: 'Catalogue rows that differ from the previous version, by change (added, removed, up, down)',
    labelNames: ['change'] as const,
    registers: [this.registry],
  });
  readonly syncs = new Histogram({
    name: 'tickflow_pricing_region_sync_duration_seconds',
    help: 'Region syncs by cloud and result (synced, unchanged, failed)',
    labelNames: ['cloud', 'result'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900],
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'tickflow_pricing_webhook_deliveries_total',
    help: 'Webhook POSTs by HTTP status (error: no answer)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly priceListCalls = new Histogram({
    name: 'tickflow_pricing_price_list_request_duration_seconds',
    help: 'Requests to the price list by route and HTTP status (error: no answer), time to the first byte',
    labelNames: ['route', 'status'] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
}
