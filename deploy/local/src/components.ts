// The local stack, declared once: what each component is, where it listens, how it is
// installed on a bare machine, how it is started and how we know it is the real thing.
// docker-compose.yml mirrors this declaration; test/compose.test.ts keeps them in step.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { aptInstall, goBuild, InstallError, installOnce, mavenCopyDependencies, run } from './installers.ts';
import { deployDir, stackDir } from './paths.ts';
import type { Launch } from './processes.ts';
import { systemUserIds } from './processes.ts';

export interface Component {
  name: string;
  /** What it is, in a few words, for stack:status and the README. */
  product: string;
  /** The address users and services point at. */
  endpoint: string;
  /** Every TCP port it listens on, the endpoint's first. */
  ports: number[];
  /** The docker-compose.yml service that runs the same thing. */
  composeService: string;
  dependsOn: string[];
  /** Seconds to wait for it to answer after launch. */
  startTimeoutSeconds: number;
  install(): Promise<void>;
  /** One-time preparation of its data folder, run before every launch. */
  prepare?(): Promise<void>;
  launch(): Launch;
  /** Runs after it answers: databases, users and the like that must exist. */
  provision?(): Promise<void>;
  /** Resolves with the server's version when it answers like the real thing; rejects otherwise. */
  probe(): Promise<string>;
}

export const KAFKA_VERSION = '3.9.1';
export const APICURIO_VERSION = '3.3.3';

const dirOf = (name: string) => join(stackDir, name);
const binDir = join(stackDir, 'bin');

async function fetchJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

/** A server built from its wrapper module in deploy/local/go/<wrapper> into .stack/bin. */
function goProgram(wrapper: string, pkg: string, version: string, ldflags = ''): { binary: string; install(): Promise<void> } {
  const binary = join(binDir, wrapper);
  return {
    binary,
    install: async () => {
      await requireCommand('go', 'golang-go');
      mkdirSync(binDir, { recursive: true });
      await installOnce(`${binary}.installed`, version, () => goBuild(join(deployDir, 'go', wrapper), pkg, binary, ldflags));
    },
  };
}

// --- Kafka -----------------------------------------------------------------------------

const kafkaDir = dirOf('kafka');
const kafka: Component = {
  name: 'kafka',
  product: `Apache Kafka ${KAFKA_VERSION} (KRaft)`,
  endpoint: '127.0.0.1:9092',
  ports: [9092, 9093],
  composeService: 'kafka',
  dependsOn: [],
  startTimeoutSeconds: 120,
  install: async () => {
    await requireCommand('java', 'openjdk-17-jre-headless');
    await requireCommand('mvn', 'maven');
    mkdirSync(kafkaDir, { recursive: true });
    await installOnce(join(kafkaDir, 'installed'), KAFKA_VERSION, () =>
      mavenCopyDependencies(join(deployDir, 'kafka'), join(kafkaDir, 'lib'), { 'kafka.version': KAFKA_VERSION }),
    );
  },
  prepare: async () => {
    const dataDir = join(kafkaDir, 'data');
    writeFileSync(join(kafkaDir, 'server.properties'), kafkaServerProperties(dataDir));
    writeFileSync(join(kafkaDir, 'log4j.properties'), KAFKA_LOG4J);
    if (existsSync(join(dataDir, 'meta.properties'))) return;
    // A KRaft cluster id is 16 random bytes in URL-safe base64.
    const clusterId = randomBytes(16).toString('base64url');
    await run(
      'java',
      [...kafkaJavaArgs(), 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '--config', 'server.properties'],
      {
        cwd: kafkaDir,
      },
    );
  },
  launch: () => ({
    command: 'java',
    args: ['-Xms512m', '-Xmx512m', ...kafkaJavaArgs(), 'kafka.Kafka', 'server.properties'],
    cwd: kafkaDir,
  }),
  probe: async () => {
    const admin = new Kafka({
      clientId: 'tickflow-stack-probe',
      brokers: ['127.0.0.1:9092'],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0) throw new Error('no brokers');
      return KAFKA_VERSION;
    } finally {
      await admin.disconnect();
    }
  },
};

function kafkaJavaArgs(): string[] {
  return ['-cp', 'lib/*', '-Dlog4j.configuration=file:log4j.properties'];
}

function kafkaServerProperties(dataDir: string): string {
  return `# Written by deploy/local on every stack:up; edit deploy/local/src/components.ts instead.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://127.0.0.1:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=${dataDir}
# Topics are provisioned explicitly from each service's declaration.
auto.create.topics.enable=false
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
`;
}

const KAFKA_LOG4J = `log4j.rootLogger=WARN, stdout
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
`;

// --- PostgreSQL ------------------------------------------------------------------------

const postgresDir = dirOf('postgres');
const POSTGRES_USER = 'tickflow';

function postgresBin(program: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) throw new InstallError('PostgreSQL server binaries not found under /usr/lib/postgresql');
  return join(root, newest, 'bin', program);
}

/**
 * The `postgres` user must be able to walk down to its data folder. A checkout inside a
 * private folder (mktemp -d makes them 0700) would stop it, so the folders above get the
 * search bit for others (o+x: pass through, not list or read) where it is missing.
 */
function allowTraversal(dir: string): void {
  for (let current = dirname(dir); current !== dirname(current); current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) chmodSync(current, mode | 0o001);
  }
}

/** PostgreSQL will not run as root; as root we run it as Debian's `postgres` user. */
function postgresUser(): string | undefined {
  return process.getuid?.() === 0 ? 'postgres' : undefined;
}

const postgres: Component = {
  name: 'postgres',
  product: 'PostgreSQL (Debian)',
  endpoint: 'postgres://tickflow:tickflow@127.0.0.1:5432/tickflow',
  ports: [5432],
  composeService: 'postgres',
  dependsOn: [],
  startTimeoutSeconds: 60,
  install: async () => {
    try {
      postgresBin('postgres');
    } catch {
      await aptInstall(['postgresql']);
    }
  },
  prepare: async () => {
    const dataDir = join(postgresDir, 'data');
    mkdirSync(postgresDir, { recursive: true });
    const user = postgresUser();
    if (user) {
      const { uid, gid } = systemUserIds(user);
      chownSync(postgresDir, uid, gid);
      allowTraversal(postgresDir);
    }
    if (existsSync(join(dataDir, 'PG_VERSION'))) return;
    const pwfile = join(postgresDir, 'initdb-password');
    writeFileSync(pwfile, 'tickflow\n');
    if (user) chownSync(pwfile, systemUserIds(user).uid, systemUserIds(user).gid);
    const initdb = [
      postgresBin('initdb'),
      '-D',
      dataDir,
      '-U',
      POSTGRES_USER,
      `--pwfile=${pwfile}`,
      '-A',
      'scram-sha-256',
      '-E',
      'UTF8',
      '--no-locale',
    ];
    if (user) await run('setpriv', ['--reuid', user, '--regid', user, '--init-groups', '--', ...initdb]);
    else await run(initdb[0] as string, initdb.slice(1));
    rmSync(pwfile);
  },
  launch: () => ({
    command: postgresBin('postgres'),
    args: [
      '-D',
      join(postgresDir, 'data'),
      '-p',
      '5432',
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${postgresDir}`,
      '-c',
      'max_connections=200',
    ],
    ...(postgresUser() ? { user: postgresUser() } : {}),
  }),
  provision: async () => {
    const admin = new pg.Client({ connectionString: 'postgres://tickflow:tickflow@127.0.0.1:5432/postgres' });
    await admin.connect();
    try {
      for (const database of ['tickflow', 'schema_registry']) {
        const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${database} OWNER ${POSTGRES_USER}`);
      }
    } finally {
      await admin.end();
    }
  },
  probe: async () => {
    const client = new pg.Client({
      connectionString: 'postgres://tickflow:tickflow@127.0.0.1:5432/postgres',
      connectionTimeoutMillis: 2000,
    });
    await client.connect();
    try {
      const result = await client.query<{ server_version: string }>('SHOW server_version');
      return result.rows[0]?.server_version.split(' ')[0] ?? 'unknown';
    } finally {
      await client.end();
    }
  },
};

// --- Redis -----------------------------------------------------------------------------

const redisDir = dirOf('redis');
const redis: Component = {
  name: 'redis',
  product: 'Redis (Debian)',
  endpoint: 'redis://127.0.0.1:6379',
  ports: [6379],
  composeService: 'redis',
  dependsOn: [],
  startTimeoutSeconds: 30,
  install: () => requireCommand('redis-server', 'redis-server'),
  prepare: async () => {
    mkdirSync(redisDir, { recursive: true });
  },
  launch: () => ({
    command: 'redis-server',
    // The append-only file keeps counters across a stack restart, synced on every write:
    // with the default once-a-second sync, a crash could bring back counters the
    // aggregator had already moved to PostgreSQL, and they would be counted twice.
    args: [
      '--bind',
      '127.0.0.1',
      '--port',
      '6379',
      '--dir',
      redisDir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
  }),
  probe: async () => {
    const client = new Redis('redis://127.0.0.1:6379', {
      lazyConnect: true,
      connectTimeout: 1000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined); // a refused connection is an answer here, not a crash
    try {
      await client.connect();
      const info = await client.info('server');
      const version = /redis_version:(\S+)/.exec(info)?.[1];
      if (!version) throw new Error('not a Redis server');
      return version;
    } finally {
      client.disconnect();
    }
  },
};

// --- S3 (MinIO) ------------------------------------------------------------------------

const MINIO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';
const minioProgram = goProgram('minio', 'github.com/minio/minio', MINIO_VERSION);
const minio: Component = {
  name: 's3',
  product: 'MinIO (built from the Go module proxy)',
  endpoint: 'http://127.0.0.1:9000',
  ports: [9000, 9001],
  composeService: 's3',
  dependsOn: [],
  startTimeoutSeconds: 60,
  install: () => minioProgram.install(),
  launch: () => ({
    command: minioProgram.binary,
    args: ['server', join(dirOf('s3'), 'data'), '--address', '127.0.0.1:9000', '--console-address', '127.0.0.1:9001', '--quiet'],
    env: { MINIO_ROOT_USER: 'tickflow', MINIO_ROOT_PASSWORD: 'tickflow-secret', MINIO_UPDATE: 'off' },
  }),
  probe: async () => {
    const response = await fetch('http://127.0.0.1:9000/minio/health/ready', { signal: AbortSignal.timeout(2000) });
    if (!response.ok || !(response.headers.get('server') ?? '').includes('MinIO')) throw new Error('not MinIO');
    return MINIO_VERSION.split('-').slice(1).join('-');
  },
};

// --- Jaeger ----------------------------------------------------------------------------

const JAEGER_VERSION = 'v1.76.0';
const jaegerProgram = goProgram('jaeger', 'github.com/jaegertracing/jaeger/cmd/jaeger', JAEGER_VERSION);
const jaeger: Component = {
  name: 'jaeger',
  product: 'Jaeger, the v2 all-in-one binary (memory storage)',
  endpoint: 'OTLP grpc 127.0.0.1:4317, http 127.0.0.1:4318; query API http://127.0.0.1:16686',
  ports: [16686, 16685, 4317, 4318],
  composeService: 'jaeger',
  dependsOn: [],
  startTimeoutSeconds: 60,
  install: () => jaegerProgram.install(),
  launch: () => ({
    command: jaegerProgram.binary,
    args: ['--config', join(deployDir, 'jaeger', 'config.yaml')],
  }),
  probe: async () => {
    const body = (await fetchJson('http://127.0.0.1:16686/api/services')) as { data?: unknown };
    if (!('data' in body)) throw new Error('not the Jaeger query API');
    return JAEGER_VERSION;
  },
};

// --- SMTP sink (Mailpit) ---------------------------------------------------------------

const MAILPIT_VERSION = 'v1.28.0';
const mailpitProgram = goProgram(
  'mailpit',
  'github.com/axllent/mailpit',
  MAILPIT_VERSION,
  `-X github.com/axllent/mailpit/config.Version=${MAILPIT_VERSION}`,
);
const mailpit: Component = {
  name: 'smtp',
  product: 'Mailpit SMTP sink',
  endpoint: 'smtp://127.0.0.1:1025, API http://127.0.0.1:8025',
  ports: [1025, 8025],
  composeService: 'smtp',
  dependsOn: [],
  startTimeoutSeconds: 30,
  install: () => mailpitProgram.install(),
  launch: () => ({
    command: mailpitProgram.binary,
    args: [
      '--smtp',
      '127.0.0.1:1025',
      '--listen',
      '127.0.0.1:8025',
      '--database',
      join(dirOf('smtp'), 'mailpit.db'),
      '--disable-version-check',
    ],
  }),
  probe: async () => {
    const info = (await fetchJson('http://127.0.0.1:8025/api/v1/info')) as { Version?: string };
    if (!info.Version) throw new Error('not Mailpit');
    return info.Version;
  },
};

// --- Schema Registry (Apicurio) --------------------------------------------------------

const registryDir = dirOf('schema-registry');
const schemaRegistry: Component = {
  name: 'schema-registry',
  product: `Apicurio Registry ${APICURIO_VERSION} (Confluent-compatible API, stored in PostgreSQL)`,
  endpoint: 'http://127.0.0.1:8081/apis/ccompat/v7',
  ports: [8081, 9081],
  composeService: 'schema-registry',
  dependsOn: ['postgres'],
  startTimeoutSeconds: 120,
  install: async () => {
    await requireCommand('mvn', 'maven');
    javaAtLeast21();
    mkdirSync(registryDir, { recursive: true });
    await installOnce(join(registryDir, 'installed'), APICURIO_VERSION, () =>
      run('mvn', ['-q', '-B', 'package', `-Dapicurio.version=${APICURIO_VERSION}`, `-Dregistry.dir=${join(registryDir, 'build')}`], {
        cwd: join(deployDir, 'schema-registry'),
      }).then(() => undefined),
    );
  },
  launch: () => ({
    command: join(javaAtLeast21(), 'bin', 'java'),
    args: [
      '-Xms64m',
      '-Xmx384m',
      '-XX:MaxMetaspaceSize=192m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-jar',
      join(registryDir, 'build', 'quarkus-app', 'quarkus-run.jar'),
    ],
    cwd: registryDir,
    env: {
      QUARKUS_HTTP_HOST: '127.0.0.1',
      QUARKUS_HTTP_PORT: '8081',
      QUARKUS_MANAGEMENT_HOST: '127.0.0.1',
      QUARKUS_MANAGEMENT_PORT: '9081',
      APICURIO_STORAGE_KIND: 'sql',
      APICURIO_STORAGE_SQL_KIND: 'postgresql',
      APICURIO_DATASOURCE_URL: 'jdbc:postgresql://127.0.0.1:5432/schema_registry',
      APICURIO_DATASOURCE_USERNAME: 'tickflow',
      APICURIO_DATASOURCE_PASSWORD: 'tickflow',
      APICURIO_DATASOURCE_JDBC_INITIAL_SIZE: '2',
      APICURIO_DATASOURCE_JDBC_MIN_SIZE: '2',
      APICURIO_DATASOURCE_JDBC_MAX_SIZE: '10',
    },
  }),
  probe: async () => {
    await fetchJson('http://127.0.0.1:8081/apis/ccompat/v7/subjects');
    const info = (await fetchJson('http://127.0.0.1:8081/apis/registry/v3/system/info')) as { version?: string };
    return info.version ?? 'unknown';
  },
};

/** Apicurio 3 needs Java 21 or later; Debian's default JDK may be older, so look beside it. */
function javaAtLeast21(): string {
  const root = '/usr/lib/jvm';
  const candidates = existsSync(root) ? readdirSync(root) : [];
  const found = candidates
    .map((name) => ({ name, major: Number(/(?:^|-)(\d{2,})(?:[.-]|$)/.exec(name)?.[1] ?? 0) }))
    .filter((c) => c.major >= 21 && existsSync(join(root, c.name, 'bin', 'java')))
    .sort((a, b) => b.major - a.major)[0];
  if (!found) throw new InstallError('the schema registry (Apicurio) needs a Java 21+ JDK under /usr/lib/jvm; none was found');
  return join(root, found.name);
}

async function requireCommand(command: string, debianPackage: string): Promise<void> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
  } catch {
    await aptInstall([debianPackage]);
  }
}

export const components: Component[] = [kafka, schemaRegistry, postgres, redis, minio, jaeger, mailpit];

export function componentNamed(name: string): Component {
  const component = components.find((c) => c.name === name);
  if (!component) throw new Error(`no stack component named ${name}; known: ${components.map((c) => c.name).join(', ')}`);
  return component;
}
