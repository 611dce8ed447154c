// A single-node KRaft Kafka of a test's own, for tests that stop, restart or kill the broker:
// the stack's Kafka is shared with every other test running at the same time, so it is never
// the one to restart. It runs from the jars `stack:up` installed (deploy/local/src/components.ts
// declares them and the same server settings), in a temporary folder, on free ports. Tests of
// how clients connect to a secured cluster ask for SASL and TLS listeners beside the plaintext
// one, which the broker itself and the readiness probe keep using.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { freePort as anyFreePort } from './free-port.ts';
import { eventually } from './stack.ts';

// Where deploy/local keeps what it installs (deploy/local/src/paths.ts).
const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const stackDir = process.env.TICKFLOW_STACK_DIR ?? join(repoRoot, '.stack');
const kafkaLib = join(stackDir, 'kafka', 'lib');

// C1 only: a broker that lives for one test starts faster and leaves the shared cores to the
// test; the heap is the stack's, halved.
const BROKER_JVM_OPTIONS = ['-Xms256m', '-Xmx256m', '-XX:TieredStopAtLevel=1'];

const LOG4J = `log4j.rootLogger=WARN, stdout
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
`;

/** Listeners beside the plaintext one. */
export interface ThrowawayKafkaOptions {
  /**
   * The users, name to password, of a SASL_PLAINTEXT listener (and a SASL_SSL one with `tls`)
   * that takes PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. Names and passwords are letters,
   * digits, `.`, `_` and `-`: they go unquoted into the broker's JAAS settings and kafka-storage.
   */
  saslUsers?: Record<string, string>;
  /**
   * An SSL listener, and a second one that requires a client certificate, on certificates
   * openssl makes at start for 127.0.0.1 and localhost (see `tlsFiles`).
   */
  tls?: boolean;
}

/** A listener a test can connect to; `plaintext` is `brokers`. */
export type ThrowawayListener = 'plaintext' | 'sasl' | 'sasl-tls' | 'tls' | 'mutual-tls';

/** The PEM files `tls` made: the CA that signed the broker's certificate, and a client certificate and key it signed. */
export interface ThrowawayTlsFiles {
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

type ListenerPorts = Partial<Record<ThrowawayListener, number>> & { plaintext: number };

// The broker's name and security protocol of each listener.
const LISTENERS: Record<ThrowawayListener, { name: string; protocol: string }> = {
  plaintext: { name: 'PLAINTEXT', protocol: 'PLAINTEXT' },
  sasl: { name: 'SASL_PLAINTEXT', protocol: 'SASL_PLAINTEXT' },
  'sasl-tls': { name: 'SASL_SSL', protocol: 'SASL_SSL' },
  tls: { name: 'SSL', protocol: 'SSL' },
  'mutual-tls': { name: 'MUTUAL_TLS', protocol: 'SSL' },
};

const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];
const UNQUOTED_CREDENTIAL = /^[A-Za-z0-9._-]+$/;

// Only what each certificate is for: the system's openssl.cnf is left out, so the same
// certificates come out on any machine.
const OPENSSL_CONFIG = `[req]
distinguished_name = subject
prompt = no
[subject]
CN = tickflow throwaway
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[broker]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
[client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
`;

export class ThrowawayKafka {
  private child: ChildProcess | undefined;
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  private constructor(
    private readonly dir: string,
    private readonly ports: ListenerPorts,
    private readonly controllerPort: number,
    private readonly saslUsers: [string, string][],
  ) {}

  /** Formats a new cluster in a temporary folder and starts it; resolves once it answers. */
  static async start(options: ThrowawayKafkaOptions = {}): Promise<ThrowawayKafka> {
    // A stack that was already up when `stack:up` ran (another checkout's) is reused, not
    // installed: the jars this broker runs from may not be here yet.
    if (!existsSync(kafkaLib)) {
      // Loaded only then: the stack's declaration brings every component's client along.
      const { components } = await import('@tickflow/local-stack');
      await components.find((c) => c.name === 'kafka')?.install();
    }
    if (!existsSync(kafkaLib)) throw new Error(`no Kafka jars in ${kafkaLib}: run npm run stack:up once`);
    const saslUsers = Object.entries(options.saslUsers ?? {});
    for (const [name, password] of saslUsers) {
      if (!UNQUOTED_CREDENTIAL.test(name) || !UNQUOTED_CREDENTIAL.test(password))
        throw new Error(`SASL user '${name}': names and passwords may only hold letters, digits, '.', '_' and '-'`);
    }
    const listeners: ThrowawayListener[] = [
      ...(saslUsers.length > 0 ? (['sasl'] as const) : []),
      ...(options.tls ? (['tls', 'mutual-tls'] as const) : []),
      ...(saslUsers.length > 0 && options.tls ? (['sasl-tls'] as const) : []),
    ];
    const taken = new Set<number>();
    const ports: ListenerPorts = { plaintext: await freePort(taken) };
    for (const listener of listeners) ports[listener] = await freePort(taken);
    const kafka = new ThrowawayKafka(mkdtempSync(join(tmpdir(), 'throwaway-kafka-')), ports, await freePort(taken), saslUsers);
    process.once('exit', kafka.killOnExit);
    try {
      if (options.tls) kafka.makeCertificates();
      writeFileSync(join(kafka.dir, 'server.properties'), kafka.serverProperties());
      writeFileSync(join(kafka.dir, 'log4j.properties'), LOG4J);
      // A KRaft cluster id is 16 random bytes in URL-safe base64.
      const clusterId = randomBytes(16).toString('base64url');
      // SCRAM credentials live in the cluster's metadata; written at format time, they are
      // there before the first client connects (kafkajs cannot create them).
      const scramCredentials = saslUsers.flatMap(([name, password]) =>
        SCRAM_MECHANISMS.flatMap((mechanism) => ['--add-scram', `${mechanism}=[name=${name},password=${password}]`]),
      );
      await kafka.java([
        'kafka.tools.StorageTool',
        'format',
        `--cluster-id=${clusterId}`,
        '--config',
        'server.properties',
        ...scramCredentials,
      ]);
      await kafka.start();
    } catch (error) {
      await kafka.remove();
      throw error;
    }
    return kafka;
  }

  /** Starts the broker again on the same ports and data after `stop` or `kill`. */
  async start(): Promise<void> {
    if (isRunning(this.child)) return;
    const child = this.spawnJava([...BROKER_JVM_OPTIONS, ...this.javaArgs(), 'kafka.Kafka', 'server.properties']);
    this.child = child;
    const admin = new Kafka({
      clientId: 'throwaway-kafka-probe',
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      retry: { retries: 0 },
    }).admin();
    await eventually(
      `the throwaway Kafka on ${this.brokers[0]} to answer`,
      async () => {
        if (!isRunning(child)) throw new Error(`it exited: ${this.log().slice(-2000)}`);
        try {
          await admin.connect();
          return (await admin.describeCluster()).brokers.length > 0 ? true : undefined;
        } finally {
          await admin.disconnect();
        }
      },
      60_000,
    );
  }

  get brokers(): string[] {
    return this.brokersOf('plaintext');
  }

  /** The address of one of its listeners; those beside `plaintext` only when `start` was asked for them. */
  brokersOf(listener: ThrowawayListener): string[] {
    const port = this.ports[listener];
    if (port === undefined) {
      const needs = { plaintext: '', sasl: 'saslUsers', 'sasl-tls': 'saslUsers and tls', tls: 'tls', 'mutual-tls': 'tls' }[listener];
      throw new Error(`this throwaway Kafka has no ${listener} listener: start it with ${needs}`);
    }
    return [`127.0.0.1:${port}`];
  }

  get tlsFiles(): ThrowawayTlsFiles {
    if (this.ports.tls === undefined) throw new Error('this throwaway Kafka has no certificates: start it with tls');
    const tls = join(this.dir, 'tls');
    return { caFile: join(tls, 'ca.pem'), clientCertFile: join(tls, 'client.pem'), clientKeyFile: join(tls, 'client.key') };
  }

  /** SIGTERM: a controlled shutdown, as an orchestrator stops a broker. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM', 30_000);
  }

  /** SIGKILL: the broker dies wherever it is, in the middle of whatever it was doing. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 10_000);
  }

  /** Stops and starts it again, keeping its data: topics, offsets and transactions survive. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Kills it and removes its folder. */
  async remove(): Promise<void> {
    await this.kill();
    process.removeListener('exit', this.killOnExit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** What the broker has printed, for a failing test's message. */
  log(): string {
    return readFileSync(join(this.dir, 'output.log'), 'utf8');
  }

  private async signal(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const child = this.child;
    if (!child || !isRunning(child)) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  private javaArgs(): string[] {
    return ['-cp', `${kafkaLib}/*`, `-Dlog4j.configuration=file:${join(this.dir, 'log4j.properties')}`];
  }

  private async java(args: string[]): Promise<void> {
    const child = this.spawnJava([...this.javaArgs(), ...args]);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`java ${args.join(' ')} exited with ${code}: ${this.log().slice(-2000)}`);
  }

  /** A CA, and a broker and a client certificate it signs, as PEM files in `tls/`. */
  private makeCertificates(): void {
    const dir = join(this.dir, 'tls');
    mkdirSync(dir);
    writeFileSync(join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
    const openssl = (...args: string[]) => {
      try {
        execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (error) {
        const { code, stderr } = error as { code?: string; stderr?: Buffer };
        if (code === 'ENOENT') throw new Error('openssl is not installed (Debian: apt-get install -y openssl)');
        throw new Error(`openssl ${args.join(' ')} failed: ${stderr?.toString() ?? error}`);
      }
    };
    const key = ['-newkey', 'rsa:2048', '-nodes', '-config', 'openssl.cnf'];
    openssl(
      'req',
      '-x509',
      ...key,
      '-extensions',
      'ca',
      '-days',
      '2',
      '-subj',
      '/CN=tickflow throwaway CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    );
    for (const [name, serial] of [
      ['broker', '1001'],
      ['client', '1002'],
    ] as const) {
      openssl(
        'req',
        '-new',
        ...key,
        '-subj',
        `/CN=${name === 'broker' ? 'localhost' : 'tickflow-test-client'}`,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
      );
      const signedByCa = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', serial, '-days', '2'];
      openssl('x509', '-req', '-in', `${name}.csr`, ...signedByCa, '-extfile', 'openssl.cnf', '-extensions', name, '-out', `${name}.pem`);
    }
  }

  /** Output goes to one log in its folder, appended to across restarts. */
  private spawnJava(args: string[]): ChildProcess {
    const log = openSync(join(this.dir, 'output.log'), 'a');
    try {
      return spawn('java', args, { cwd: this.dir, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
  }

  // The stack's settings (kafkaServerProperties in deploy/local), on this broker's ports. The
  // internal topics get one partition instead of fifty: a fresh cluster creates them on first use.
  // A short broker session: after a kill, the broker's new incarnation is only let in once the
  // controller has given up on the old one (9 s by default).
  private serverProperties(): string {
    const listeners = (Object.keys(this.ports) as ThrowawayListener[]).map((listener) => ({
      ...LISTENERS[listener],
      port: this.ports[listener],
    }));
    const addresses = listeners.map(({ name, port }) => `${name}://127.0.0.1:${port}`);
    const protocols = listeners.map(({ name, protocol }) => `${name}:${protocol}`);
    return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${this.controllerPort}
listeners=${[...addresses, `CONTROLLER://127.0.0.1:${this.controllerPort}`].join(',')}
advertised.listeners=${addresses.join(',')}
controller.listener.names=CONTROLLER
listener.security.protocol.map=${[...protocols, 'CONTROLLER:PLAINTEXT'].join(',')}
inter.broker.listener.name=PLAINTEXT
log.dirs=${join(this.dir, 'data')}
auto.create.topics.enable=false
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
broker.session.timeout.ms=2000
broker.heartbeat.interval.ms=500
${this.securityProperties().join('\n')}
`;
  }

  // Every SASL listener takes every mechanism; PLAIN's users are listed in its JAAS settings,
  // SCRAM's are in the cluster's metadata (see `start`). The PEMs go in inline: one line each,
  // the newlines written as \n, which the broker's properties reader turns back into newlines.
  private securityProperties(): string[] {
    const lines: string[] = [];
    const saslListeners = (['sasl', 'sasl-tls'] as const).filter((listener) => this.ports[listener] !== undefined);
    if (saslListeners.length > 0) lines.push(`sasl.enabled.mechanisms=PLAIN,${SCRAM_MECHANISMS.join(',')}`);
    const plainUsers = this.saslUsers.map(([name, password]) => `user_${name}="${password}"`).join(' ');
    for (const listener of saslListeners) {
      const prefix = `listener.name.${LISTENERS[listener].name.toLowerCase()}`;
      lines.push(`${prefix}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`);
      for (const mechanism of SCRAM_MECHANISMS)
        lines.push(
          `${prefix}.${mechanism.toLowerCase()}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
        );
    }
    if (this.ports.tls !== undefined) {
      const pem = (file: string) =>
        readFileSync(join(this.dir, 'tls', file), 'utf8')
          .trim()
          .replaceAll('\n', '\\n');
      lines.push(
        'ssl.keystore.type=PEM',
        `ssl.keystore.certificate.chain=${pem('broker.pem')}`,
        `ssl.keystore.key=${pem('broker.key')}`,
        'ssl.truststore.type=PEM',
        `ssl.truststore.certificates=${pem('ca.pem')}`,
        `listener.name.${LISTENERS['mutual-tls'].name.toLowerCase()}.ssl.client.auth=required`,
      );
    }
    return lines;
  }
}

function isRunning(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** A port free now and not in `taken` (the system may hand out one just released again); added to `taken`. */
async function freePort(taken = new Set<number>()): Promise<number> {
  for (;;) {
    const port = await anyFreePort();
    if (taken.has(port)) continue;
    taken.add(port);
    return port;
  }
}
