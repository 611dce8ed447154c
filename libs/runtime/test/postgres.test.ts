import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stack, uniqueName } from '@tickflow/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresPool, type Migration, MigrationError, migrate, readMigrations, withTransaction } from '../src/index.ts';

const schema = uniqueName('runtime-pg');
const table = `${pg.escapeIdentifier(schema)}.accounts`;
const pools: pg.Pool[] = [];
const directories: string[] = [];
const migratedSchemas: string[] = [];

function pool(size = 2): pg.Pool {
  const created = createPostgresPool({ databaseUrl: stack.databaseUrl, applicationName: 'runtime-postgres-test', poolSize: size });
  pools.push(created);
  return created;
}

function migrationsDirectory(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), 'tickflow-migrations-'));
  directories.push(directory);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(directory, name), sql);
  return directory;
}

function migratedSchema(): string {
  const name = uniqueName('runtime-migrate');
  migratedSchemas.push(name);
  return name;
}

const backendPid = async (client: pg.ClientBase) => (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;

let admin: pg.Pool;

beforeAll(async () => {
  admin = pool();
  await admin.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
  await admin.query(`CREATE TABLE ${table} (id text PRIMARY KEY)`);
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  for (const migrated of migratedSchemas) await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(migrated)} CASCADE`);
  await Promise.all(pools.map((p) => p.end()));
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

describe('createPostgresPool', () => {
  it('names the application in pg_stat_activity', async () => {
    const result = await pool(1).query<{ name: string }>('SELECT current_setting($1) AS name', ['application_name']);
    expect(result.rows[0]?.name).toBe('runtime-postgres-test');
  });

  it('survives an idle connection being killed, and reconnects', async () => {
    const errors: Error[] = [];
    const p = createPostgresPool({
      databaseUrl: stack.databaseUrl,
      applicationName: 'runtime-postgres-test',
      poolSize: 1,
      onIdleError: (e) => errors.push(e),
    });
    pools.push(p);
    const pid = (await p.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await expect.poll(() => errors.length).toBe(1);
    const again = (await p.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    expect(again).not.toBe(pid);
  });
});

describe('withTransaction', () => {
  it('commits what the work wrote', async () => {
    const result = await withTransaction(pool(), async (client) => {
      await client.query(`INSERT INTO ${table} (id) VALUES ('committed')`);
      return 'ok';
    });
    expect(result).toBe('ok');
    expect((await admin.query(`SELECT id FROM ${table} WHERE id = 'committed'`)).rowCount).toBe(1);
  });

  it('rolls back and rethrows when the work throws, and keeps the healthy connection', async () => {
    const p = pool(1);
    let pid: number | undefined;
    const failure = new Error('domain rule broken');
    await expect(
      withTransaction(p, async (client) => {
        pid = await backendPid(client);
        await client.query(`INSERT INTO ${table} (id) VALUES ('rolled-back')`);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect((await admin.query(`SELECT id FROM ${table} WHERE id = 'rolled-back'`)).rowCount).toBe(0);
    expect(await withTransaction(p, backendPid)).toBe(pid);
  });

  it('rolls back when a statement fails, leaving the connection usable', async () => {
    const p = pool(1);
    await expect(
      withTransaction(p, async (client) => {
        await client.query(`INSERT INTO ${table} (id) VALUES ('dup-1')`);
        await client.query(`INSERT INTO ${table} (id) VALUES ('dup-1')`);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect((await admin.query(`SELECT id FROM ${table} WHERE id = 'dup-1'`)).rowCount).toBe(0);
    expect(await withTransaction(p, async (client) => (await client.query('SELECT 1 AS one')).rows[0]?.one)).toBe(1);
  });

  it('destroys a connection killed mid-transaction instead of returning it to the pool', async () => {
    const p = pool(1);
    let killedPid: number | undefined;
    await expect(
      withTransaction(p, async (client) => {
        killedPid = await backendPid(client);
        await client.query(`INSERT INTO ${table} (id) VALUES ('killed')`);
        await admin.query('SELECT pg_terminate_backend($1)', [killedPid]);
        // The server's notice of termination arrives between two queries: it must not crash the process.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await client.query('SELECT 1');
      }),
    ).rejects.toThrow();
    expect((await admin.query(`SELECT id FROM ${table} WHERE id = 'killed'`)).rowCount).toBe(0);
    // A pool of one: had the dead connection gone back, this would fail or reuse its pid.
    const nextPid = await withTransaction(p, backendPid);
    expect(nextPid).toBeDefined();
    expect(nextPid).not.toBe(killedPid);
    expect(p.totalCount).toBe(1);
  });
});

describe('readMigrations', () => {
  it('reads NNN_name.sql files in name order, ignoring other files', () => {
    const directory = migrationsDirectory({
      '010_third.sql': 'SELECT 3',
      '001_first.sql': 'SELECT 1',
      '002_second.sql': 'SELECT 2',
      'README.md': 'not a migration',
    });
    expect(readMigrations(directory)).toEqual([
      { version: '001', name: '001_first.sql', sql: 'SELECT 1' },
      { version: '002', name: '002_second.sql', sql: 'SELECT 2' },
      { version: '010', name: '010_third.sql', sql: 'SELECT 3' },
    ]);
  });

  it('refuses a .sql file not named NNN_name.sql', () => {
    const directory = migrationsDirectory({ '001_first.sql': 'SELECT 1', 'Second-Step.sql': 'SELECT 2' });
    expect(() => readMigrations(directory)).toThrow(MigrationError);
    expect(() => readMigrations(directory)).toThrow('migration file Second-Step.sql is not named NNN_name.sql');
  });
});

describe('migrate', () => {
  it('applies each migration once, in order, and later only the new ones', async () => {
    const target = migratedSchema();
    const directory = migrationsDirectory({
      '002_add_balance.sql': 'ALTER TABLE ledger ADD COLUMN balance integer NOT NULL DEFAULT 0',
      '001_ledger.sql': 'CREATE TABLE ledger (id text PRIMARY KEY)',
    });
    const p = pool();
    expect(await migrate(p, target, readMigrations(directory))).toEqual(['001_ledger.sql', '002_add_balance.sql']);
    expect(await migrate(p, target, readMigrations(directory))).toEqual([]);

    mkdirSync(directory, { recursive: true });
    writeFileSync(join(directory, '003_add_note.sql'), 'ALTER TABLE ledger ADD COLUMN note text');
    expect(await migrate(p, target, readMigrations(directory))).toEqual(['003_add_note.sql']);

    const columns = await admin.query<{ column_name: string }>(
      'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [target, 'ledger'],
    );
    expect(columns.rows.map((r) => r.column_name)).toEqual(['id', 'balance', 'note']);
    const recorded = await admin.query<{ version: string }>(
      `SELECT version FROM ${pg.escapeIdentifier(target)}.schema_migrations ORDER BY version`,
    );
    expect(recorded.rows.map((r) => r.version)).toEqual(['001', '002', '003']);
  });

  it('applies each file once when two pools migrate at the same time', async () => {
    const target = migratedSchema();
    // Not idempotent on purpose: a second application of 001 would fail, of 002 would add a row.
    const migrations: Migration[] = [
      { version: '001', name: '001_runs.sql', sql: 'CREATE TABLE runs (n integer); SELECT pg_sleep(0.2)' },
      { version: '002', name: '002_seed.sql', sql: 'INSERT INTO runs (n) VALUES (1)' },
    ];
    const [a, b] = await Promise.all([migrate(pool(1), target, migrations), migrate(pool(1), target, migrations)]);
    expect([a, b].sort((x, y) => y.length - x.length)).toEqual([['001_runs.sql', '002_seed.sql'], []]);
    expect((await admin.query(`SELECT n FROM ${pg.escapeIdentifier(target)}.runs`)).rowCount).toBe(1);
  });

  it('names the failing migration and applies none of the pending ones', async () => {
    const target = migratedSchema();
    const migrations: Migration[] = [
      { version: '001', name: '001_ok.sql', sql: 'CREATE TABLE fine (id integer)' },
      { version: '002', name: '002_broken.sql', sql: 'CREATE TABLE broken (id no_such_type)' },
    ];
    const failed = migrate(pool(), target, migrations);
    await expect(failed).rejects.toThrow(MigrationError);
    await expect(failed).rejects.toThrow(/^migration 002_broken.sql failed: type "no_such_type" does not exist$/);
    const tables = await admin.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1', [target]);
    expect(tables.rowCount).toBe(0);
  });
});
