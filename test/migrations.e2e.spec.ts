import { describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { OutboxWrites1796000000000 } from '../src/database/migrations/1796000000000-OutboxWrites.js';
import { eventsAfter, headPosition, positionOf } from '../src/events/event-store.js';
import { DATABASES, testSettings } from './support/app.js';

/** Undoes migrations, newest first, down to and including the one of that class name. */
async function undoThrough(ds: DataSource, name: string): Promise<void> {
  for (;;) {
    const [last] = await ds.query<{ name: string }[]>(
      'SELECT name FROM migrations ORDER BY id DESC LIMIT 1',
    );
    await ds.undoLastMigration();
    if (last.name === name) return;
  }
}

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

  it('moves kept events into one outbox row each, with their positions and ids', async () => {
    const ds = await new DataSource(dataSourceOptions(testSettings(db))).initialize();
    try {
      await ds.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
      await ds.runMigrations();
      await undoThrough(ds, OutboxWrites1796000000000.name);
      await ds.query(
        `INSERT INTO outbox_events (id, account_id, type, occurred_at, data, position, sent_at)
         VALUES ('0190f0e0-0000-7000-8000-000000000001', 'acme', 'run.created', now(), '{"b":1,"a":2}', 7, now()),
                ('0190f0e0-0000-7000-8000-000000000002', 'acme', 'run.updated', now(), '{"n":2}', 9, NULL),
                ('0190f0e0-0000-7000-8000-000000000003', 'acme', 'run.deleted', now(), '{"n":3}', NULL, NULL)`,
      );
      await ds.query(`SELECT setval('outbox_events_position_seq', 9)`);
      await ds.runMigrations();
      const events = await eventsAfter(ds, 'acme', '0', 10);
      expect(events.map((e) => [e.id.slice(-1), e.type, e.position, e.data])).toEqual([
        ['1', 'run.created', '7', { b: 1, a: 2 }],
        ['2', 'run.updated', '9', { n: 2 }],
      ]);
      expect(Object.keys(events[0].data)).toEqual(['b', 'a']);
      expect(await positionOf(ds, 'acme', '0190f0e0-0000-7000-8000-000000000002')).toBe('9');
      expect(await headPosition(ds)).toBe('9');
      const rows = await ds.query<{ sent: boolean; last_position: string | null }[]>(
        'SELECT sent_at IS NOT NULL AS sent, last_position::text FROM outbox_writes ORDER BY seq',
      );
      expect(rows).toEqual([
        { sent: true, last_position: '7' },
        { sent: false, last_position: '9' },
        { sent: false, last_position: null },
      ]);
      // Positions go on from where the sequence stood.
      const [{ next }] = await ds.query<{ next: string }[]>(
        "SELECT nextval('outbox_positions')::text AS next",
      );
      expect(next).toBe('10');
      // And back: one row per event again, with what was relayed of a write.
      await ds.query(`UPDATE outbox_writes SET relayed = '{9}' WHERE last_position = 9`);
      await undoThrough(ds, OutboxWrites1796000000000.name);
      const back = await ds.query<{ id: string; position: string | null; sent: boolean }[]>(
        `SELECT right(id::text, 1) AS id, position::text, sent_at IS NOT NULL AS sent
           FROM outbox_events ORDER BY seq`,
      );
      expect(back).toEqual([
        { id: '1', position: '7', sent: true },
        { id: '2', position: '9', sent: true },
        { id: '3', position: null, sent: false },
      ]);
    } finally {
      await ds.destroy();
    }
  });
});
