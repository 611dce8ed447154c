// Pod-retry's schema on the real PostgreSQL, a throwaway one per test file: migrated on first
// use, dropped by `drop()`.
import { fileURLToPath } from 'node:url';
import { readMigrations, ServiceDatabase } from '@tickflow/runtime';
import { stack, uniqueName } from '@tickflow/testing';

export function testDatabase(): { db: ServiceDatabase; drop(): Promise<void> } {
  const db = new ServiceDatabase({
    databaseUrl: stack.databaseUrl,
    applicationName: 'pod-retry-test',
    schema: uniqueName('pod_retry')
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')
      .slice(0, 60),
    migrations: readMigrations(fileURLToPath(new URL('../migrations', import.meta.url))),
  });
  return {
    db,
    async drop() {
      await db.pool.query(`DROP SCHEMA IF EXISTS "${db.schema}" CASCADE`);
      await db.close();
    },
  };
}
