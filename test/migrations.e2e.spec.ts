import { describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { DATABASES, testSettings } from './support/app.js';

describe.each(DATABASES)('migrations on $name', (db) => {
  it('build exactly the schema the entities describe, and roll back cleanly', async () => {
    const ds = await new DataSource(dataSourceOptions(testSettings(db))).initialize();
    try {
      await ds.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
      const applied = await ds.runMigrations();
      expect(applied.length).toBeGreaterThan(0);
      const pending = await ds.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      for (let i = 0; i < applied.length; i++) await ds.undoLastMigration();
      const tables = await ds.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'",
      );
      expect(tables).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });
});
