// What commands share: the configuration and the clients, each made on first use so that
// `--help` and a bad flag need neither a valid environment nor a reachable cluster.
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type CliConfig, loadCliConfig } from './cli-config.ts';
import { KafkaCluster } from './kafka-cluster.ts';
import { SchedulerClient } from './scheduler-client.ts';

const CLOSE_TIMEOUT_MS = 5_000;

export class CliContext {
  private loadedConfig: CliConfig | undefined;
  private cluster: KafkaCluster | undefined;
  private registryClient: SchemaRegistry | undefined;

  constructor(private readonly env: Record<string, string | undefined> = process.env) {}

  config(): CliConfig {
    this.loadedConfig ??= loadCliConfig(this.env);
    return this.loadedConfig;
  }

  kafka(): KafkaCluster {
    const { kafkaBrokers, kafkaReplication, kafkaSecurity } = this.config();
    this.cluster ??= new KafkaCluster(kafkaBrokers, kafkaReplication, kafkaSecurity);
    return this.cluster;
  }

  registry(): SchemaRegistry {
    const { schemaRegistryUrl, schemaRegistryAuth } = this.config();
    this.registryClient ??= new SchemaRegistry({
      host: schemaRegistryUrl,
      retry: { retries: 1 },
      ...(schemaRegistryAuth ? { auth: schemaRegistryAuth } : {}),
    });
    return this.registryClient;
  }

  scheduler(): SchedulerClient {
    return new SchedulerClient(this.config().schedulerUrl, this.config().schedulerApiToken);
  }

  /** Closes the clients; a broker that has gone away must not keep the prompt waiting. */
  async close(): Promise<void> {
    const cluster = this.cluster;
    this.cluster = undefined;
    if (!cluster) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      cluster.close().catch(() => undefined),
      new Promise((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
  }
}
