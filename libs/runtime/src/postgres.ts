// PostgreSQL for every service: one pool per process, transactions that never hand a broken
// connection back to the pool, and the migrations runner.
//
// Migrations: a service's tables come from the SQL files in its migrations/ directory, applied
// in name order at start (and before each run until they succeed once). Applied versions are
// kept in schema_migrations in the service's own schema; an advisory lock keeps two replicas
// from applying the same file at once, and all pending files go in one transaction, so a
// failure leaves the schema as it was.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresPoolOptions {
  databaseUrl: string;
  /** Shown in pg_stat_activity, so an operator sees which service holds a connection or a lock. */
  applicationName: string;
  poolSize?: number;
  /** A PostgreSQL that stops answering fails the work, to be retried, rather than hold it forever. */
  statementTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** Told of an idle connection's error (the server restarted, the network dropped); the next query reconnects. */
  onIdleError?: (error: Error) => void;
}

export function createPostgresPool(options: PostgresPoolOptions): pg.Pool {
  const statementTimeoutMs = options.statementTimeoutMs ?? 60_000;
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    application_name: options.applicationName,
    max: options.poolSize ?? 4,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    statement_timeout: statementTimeoutMs,
    // A transaction left open by a stuck caller would hold its locks; the server ends it instead.
    idle_in_transaction_session_timeout: statementTimeoutMs,
    // A peer that vanished without a reset is noticed instead of waited on.
    keepAlive: true,
  });
  // Without a listener, an idle client's error would be thrown and crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  return pool;
}

/**
 * Runs `work` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it
 * throws (the error is rethrown). A connection that failed, or whose ROLLBACK failed, is
 * destroyed rather than given back to the pool. A COMMIT that fails with a lost connection
 * leaves the outcome unknown to the caller, as with any database.
 */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // The pool listens for errors only on idle clients: a connection dropped while checked out,
  // between two queries, would otherwise emit an unhandled 'error' and crash the process.
  let broken: Error | undefined;
  const onConnectionError = (error: Error) => {
    broken ??= error;
  };
  client.on('error', onConnectionError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken ??= rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw error;
  } finally {
    client.removeListener('error', onConnectionError);
    client.release(broken);
  }
}

export interface Migration {
  /** Kept in schema_migrations: a migration whose version is there is never applied again. */
  version: string;
  name: string;
  sql: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const migrationFileName = /^(\d+)_[a-z0-9_]+\.sql$/;

/** The `NNN_name.sql` files of `directory`, in name order; any other .sql file is an error. */
export function readMigrations(directory: string): Migration[] {
  return readdirSync(directory)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => {
      const match = migrationFileName.exec(name);
      if (!match) throw new MigrationError(`migration file ${name} is not named NNN_name.sql`);
      return { version: match[1] as string, name, sql: readFileSync(join(directory, name), 'utf8') };
    });
}

/**
 * Applies, in the order given, the migrations not applied yet to `schema` (created if missing),
 * all in one transaction; returns the names applied. The SQL runs with search_path set to the
 * schema, so it names its tables without one.
 */
export async function migrate(pool: pg.Pool, schema: string, migrations: readonly Migration[]): Promise<string[]> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tickflow.migrations.${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
    await client.query(`SET LOCAL search_path TO ${pg.escapeIdentifier(schema)}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      try {
        await client.query(migration.sql);
      } catch (error) {
        throw new MigrationError(`migration ${migration.name} failed: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.name);
    }
    return applied;
  });
}

export interface ServiceDatabaseOptions extends PostgresPoolOptions {
  /** The service's schema, where its migrations create its tables. */
  schema: string;
  migrations: readonly Migration[];
  onMigrated?: (applied: string[]) => void;
}

/**
 * A service's PostgreSQL: its pool, and its migrations applied once before first use. A
 * PostgreSQL down at start does not stop the service: `ready()` fails, and tries the
 * migrations again on its next call.
 */
export class ServiceDatabase {
  readonly pool: pg.Pool;
  readonly schema: string;
  private migrated: Promise<void> | undefined;

  constructor(private readonly options: ServiceDatabaseOptions) {
    this.pool = createPostgresPool(options);
    this.schema = options.schema;
  }

  /** `name` qualified by the service's schema, quoted: for SQL text. */
  table(name: string): string {
    return `${pg.escapeIdentifier(this.schema)}.${pg.escapeIdentifier(name)}`;
  }

  ready(): Promise<void> {
    this.migrated ??= migrate(this.pool, this.schema, this.options.migrations).then(
      (applied) => this.options.onMigrated?.(applied),
      (error: unknown) => {
        this.migrated = undefined;
        throw error;
      },
    );
    return this.migrated;
  }

  /** Resolves while PostgreSQL answers, asked anew on every call: for /readyz. */
  async check(): Promise<void> {
    await this.ready();
    await this.pool.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
