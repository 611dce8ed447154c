// Metering's own metrics, beside the messaging ones on /metrics.
import { Counter, Histogram, Registry } from 'prom-client';

export class MeteringMetrics {
  readonly registry = new Registry();
  readonly recordsRead = new Counter({
    name: 'tickflow_metering_records_read_total',
    help: 'Usage records read from the export, by outcome (counted or skipped)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly contracts = new Counter({
    name: 'tickflow_metering_contracts_total',
    help: 'Contract-months by outcome: sent, failed (Clazar refused lines), skipped (a formula could not be computed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly clazarCalls = new Histogram({
    name: 'tickflow_metering_clazar_request_duration_seconds',
    help: 'Calls to the Clazar API by route and HTTP status (error: no answer)',
    labelNames: ['route', 'status'] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
}
