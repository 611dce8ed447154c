// The service's tables come from the SQL files in migrations/, applied in name order at
// start and before each run until they succeed once. Applied versions are kept in
// schema_migrations in the service's own schema; an advisory lock keeps two replicas from
// applying the same file at once.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';

export interface Migration {
  version: string;
  name: string;
  sql: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const fileName = /^(\d+)_[a-z0-9_]+\.sql$/;

export function readMigrations(directory: string): Migration[] {
  return readdirSync(directory)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => {
      const match = fileName.exec(name);
      if (!match) throw new MigrationError(`migration file ${name} is not named NNN_name.sql`);
      return { version: match[1] as string, name, sql: readFileSync(join(directory, name), 'utf8') };
    });
}

/** Applies the migrations not applied yet, all in one transaction; returns the names applied. */
export async function migrate(pool: pg.Pool, schema: string, migrations: readonly Migration[]): Promise<string[]> {
  const client = await pool.connect();
  let failed: unknown;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tickflow.migrations.${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`SET LOCAL search_path TO "${schema}"`);
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
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    failed = error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    // A connection that failed mid-transaction is not given back to the pool.
    client.release(failed instanceof Error ? failed : undefined);
  }
}
