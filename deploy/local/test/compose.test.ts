// docker-compose.yml cannot run on a machine without Docker, so this keeps it honest:
// it must start the same components, on the same loopback ports, as stack:up.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { infrastructureSchema } from '@tickflow/runtime';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { components } from '../src/components.ts';
import { repoRoot } from '../src/paths.ts';

interface ComposeFile {
  services: Record<string, { image: string; ports?: string[] }>;
}

const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as ComposeFile;

function publishedPorts(service: string): number[] {
  return (compose.services[service]?.ports ?? []).map((mapping) => {
    const [host, hostPort, containerPort] = mapping.split(':');
    expect(host, `${service} publishes ${mapping} on loopback only`).toBe('127.0.0.1');
    expect(hostPort, `${service} maps ${mapping} to the same port`).toBe(containerPort);
    return Number(hostPort);
  });
}

describe('docker-compose.yml', () => {
  it('has exactly the components of the local stack', () => {
    expect(Object.keys(compose.services).sort()).toEqual(components.map((c) => c.composeService).sort());
  });

  for (const component of components) {
    it(`publishes ${component.name} on the ports stack:up uses`, () => {
      expect(publishedPorts(component.composeService).sort()).toEqual([...component.ports].sort());
    });
  }

  it('agrees with the defaults tickflow uses to reach its infrastructure', () => {
    const defaults = infrastructureSchema.parse({});
    const ports = new Set(components.flatMap((c) => c.ports));
    const urls = [
      defaults.SCHEMA_REGISTRY_URL,
      defaults.DATABASE_URL,
      defaults.REDIS_URL,
      defaults.S3_ENDPOINT,
      defaults.OTEL_EXPORTER_OTLP_ENDPOINT,
      defaults.SMTP_URL,
    ];
    for (const url of urls) expect(ports, url).toContain(Number(new URL(url).port));
    for (const broker of defaults.KAFKA_BROKERS) expect(ports, broker).toContain(Number(broker.split(':')[1]));
  });
});
