import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataSource, createLogger, initDatabase } from '@cipherchat/service-kit';
import { LogCapture, createTestDatabase, type TestDatabase } from '@cipherchat/service-kit/testing';
import { entities } from '../src/store/entities.js';
import { migrations } from '../src/store/migrations/index.js';
import { SCHEMA } from '../src/store/schema.js';

describe('migrations at start-up (real PostgreSQL)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('user_migrate');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('when two replicas start together on a fresh database, then both succeed and each migration is applied once', async () => {
    const logger = createLogger('user-service', 'warn', new LogCapture());
    const replicas = [1, 2].map((n) =>
      createDataSource({ url: db.url, schema: SCHEMA, entities, migrations, poolSize: 2, applicationName: `migrate-${n}` }),
    );
    try {
      const applied = await Promise.all(replicas.map((ds) => initDatabase(ds, SCHEMA, logger)));
      // the advisory lock serialises them: one migrates, the other finds nothing left to do
      expect([...applied].sort()).toEqual([0, migrations.length]);
      const rows = (await replicas[0]!.query(`SELECT name, count(*)::int AS n FROM "${SCHEMA}".migrations GROUP BY name ORDER BY name`)) as { name: string; n: number }[];
      expect(rows).toEqual(migrations.map((m) => ({ name: m.name, n: 1 })).sort((a, b) => a.name.localeCompare(b.name)));
    } finally {
      for (const ds of replicas) if (ds.isInitialized) await ds.destroy();
    }
  });
});
