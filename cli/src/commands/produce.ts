import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { cloudEventHeaders, newCloudEvent } from '@tickflow/messaging';
import avsc from 'avsc';
import type { CliContext } from '../cli-context.ts';
import { CommandError } from '../cli-errors.ts';
import { encodeWireFormat, payloadProblems } from '../event-payload.ts';
import type { KafkaCluster } from '../kafka-cluster.ts';
import type { Output } from '../output.ts';

export const CLI_EVENT_SOURCE = 'tickflow/cli';

export interface ProduceRequest {
  topic: string;
  type: string;
  key: string;
  payload: Record<string, unknown>;
}

export interface ProducedEvent {
  topic: string;
  partition: number;
  offset: number;
  key: string;
  id: string;
  type: string;
  source: string;
  time: string;
  schemaId: number;
}

export async function produceEvent(
  kafka: KafkaCluster,
  registry: SchemaRegistry,
  registryUrl: string,
  request: ProduceRequest,
): Promise<ProducedEvent> {
  await kafka.requireTopic(request.topic);
  const { schemaId, type } = await latestSchema(registry, registryUrl, request.type);
  const problems = payloadProblems(type, request.payload);
  if (problems.length > 0) {
    throw new CommandError(`the payload does not fit the schema of '${request.type}' (schema id ${schemaId}): ${problems.join('; ')}`);
  }
  const event = newCloudEvent(CLI_EVENT_SOURCE, request.type);
  const [delivery] = await kafka.send([
    { topic: request.topic, key: request.key, value: encodeWireFormat(schemaId, type, request.payload), headers: cloudEventHeaders(event) },
  ]);
  if (!delivery) throw new CommandError(`Kafka did not acknowledge the event sent to ${request.topic}`);
  return { ...delivery, key: request.key, id: event.id, type: event.type, source: event.source, time: event.time, schemaId };
}

/** The latest schema of the subject named by the event type (libs/contracts registers them so). */
async function latestSchema(
  registry: SchemaRegistry,
  registryUrl: string,
  eventType: string,
): Promise<{ schemaId: number; type: avsc.Type }> {
  let schemaId: number;
  let schema: unknown;
  try {
    schemaId = await registry.getLatestSchemaId(eventType);
    schema = await registry.getSchema(schemaId);
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'status' in error && error.status === 404) {
      throw new CommandError(`unknown event type '${eventType}': the schema registry has no subject '${eventType}'`);
    }
    throw new CommandError(
      `the schema registry at ${registryUrl} (SCHEMA_REGISTRY_URL) failed: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (!avsc.Type.isType(schema, 'record')) {
    throw new CommandError(`subject '${eventType}' (schema id ${schemaId}) is not an Avro record schema`);
  }
  return { schemaId, type: schema as avsc.Type };
}

export async function produceCommand(
  context: CliContext,
  output: Output,
  topic: string,
  options: { type: string; key: string; payload: Record<string, unknown> },
): Promise<void> {
  const produced = await produceEvent(context.kafka(), context.registry(), context.config().schemaRegistryUrl, { topic, ...options });
  output.result(produced, (p) => `sent ${p.type} ${p.id} to ${p.topic}/${p.partition}/${p.offset} (key ${p.key}, schema id ${p.schemaId})`);
}
