import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { OutboxWrites1796000000000 } from '../src/database/migrations/1796000000000-OutboxWrites.js';
import { eventsAfter, headPosition, positionOf } from '../src/events/event-store.js';
import { DATABASES, testSettings } from './support/app.js';

/** Undoes the migration `name` and every one after it. */
async function undoThrough(ds: DataSource, name: string): Promise<void> {
  for (;;) {
    const [last] = await ds.query<{ name: string }[]>(
      'SELECT name FROM migrations ORDER BY id DESC LIMIT 1',
    );
    await ds.undoLastMigration();
    if (last.name === name) return;
  }
}

const columnsOf = async (ds: DataSource, table: string) =>
  (
    await ds.query<{ column_name: string }[]>(
      `SELECT column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    )
  ).map((c) => c.column_name);

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

  it('stamps existing labels, evaluations and history with version 1, and goes back', async () => {
    const ds = await new DataSource(dataSourceOptions(testSettings(db))).initialize();
    try {
      await ds.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
      await ds.runMigrations();
      await undoThrough(ds, 'LabelVersions1796100000000');
      const [label, archived, run, evaluation] = [
        '0190f0e0-0000-7000-8000-00000000000a',
        '0190f0e0-0000-7000-8000-00000000000b',
        '0190f0e0-0000-7000-8000-00000000000c',
        '0190f0e0-0000-7000-8000-00000000000d',
      ];
      await ds.query(
        `INSERT INTO evaluation_labels (account_id, id, name, value_type, min_value, max_value,
           categories, higher_is_better, archived_at, created_by, created_at)
         VALUES ('acme', $1, 'quality', 'continuous', 0, 10, NULL, true, NULL, 'alice', '2026-01-01T00:00:00Z'),
                ('acme', $2, 'tone', 'ordinal', NULL, NULL, '["low","high"]', true, now(), 'bob', '2026-01-02T00:00:00Z')`,
        [label, archived],
      );
      await ds.query(`INSERT INTO runs (account_id, id, created_at) VALUES ('acme', $1, now())`, [
        run,
      ]);
      await ds.query(
        `INSERT INTO run_evaluations (id, account_id, run_id, evaluation_label_id, value,
           created_by, created_at, updated_at) VALUES ($1, 'acme', $2, $3, 7.5, 'alice', now(), now())`,
        [evaluation, run, label],
      );
      await ds.query(
        `INSERT INTO evaluation_changes (account_id, run_id, evaluation_id, operation, old_value,
           new_value, changed_by, changed_at)
         VALUES ('acme', $1, $2, 'create', NULL, 7, 'alice', now()),
                ('acme', $1, $2, 'update', 7, 7.5, 'alice', now()),
                ('acme', $1, $3, 'delete', 1, NULL, 'alice', now())`,
        [run, evaluation, randomUUID()],
      );
      await ds.runMigrations();

      expect(
        await ds.query('SELECT id, version FROM evaluation_labels ORDER BY created_at'),
      ).toEqual([
        { id: label, version: 1 },
        { id: archived, version: 1 },
      ]);
      const versions = await ds.query(
        `SELECT label_id, version, value_type, min_value, max_value, categories, created_by
           FROM evaluation_label_versions ORDER BY created_at`,
      );
      expect(versions).toEqual([
        {
          label_id: label,
          version: 1,
          value_type: 'continuous',
          min_value: 0,
          max_value: 10,
          categories: null,
          created_by: 'alice',
        },
        {
          label_id: archived,
          version: 1,
          value_type: 'ordinal',
          min_value: null,
          max_value: null,
          categories: ['low', 'high'],
          created_by: 'bob',
        },
      ]);
      expect(await ds.query('SELECT value, label_version FROM run_evaluations')).toEqual([
        { value: 7.5, label_version: 1 },
      ]);
      expect(
        await ds.query(
          'SELECT operation, old_label_version AS old, new_label_version AS new FROM evaluation_changes ORDER BY seq',
        ),
      ).toEqual([
        { operation: 'create', old: null, new: 1 },
        { operation: 'update', old: 1, new: 1 },
        { operation: 'delete', old: 1, new: null },
      ]);
      // The stamp was for what existed: a new row must say its version.
      await expect(
        ds.query(
          `INSERT INTO run_evaluations (id, account_id, run_id, evaluation_label_id, value,
             created_at, updated_at) VALUES ($1, 'acme', $2, $3, 1, now(), now())`,
          [randomUUID(), run, label],
        ),
      ).rejects.toThrow(/label_version/);

      // Back: the versions go, the data stays.
      await undoThrough(ds, 'LabelVersions1796100000000');
      expect(await columnsOf(ds, 'run_evaluations')).not.toContain('label_version');
      expect(await columnsOf(ds, 'evaluation_labels')).not.toContain('version');
      expect(await ds.query('SELECT value FROM run_evaluations')).toEqual([{ value: 7.5 }]);
      expect(await ds.query('SELECT count(*)::int AS n FROM evaluation_changes')).toEqual([
        { n: 3 },
      ]);

      // Once a label has two versions, one scale cannot hold its evaluations: no way back.
      await ds.runMigrations();
      await ds.query('UPDATE evaluation_labels SET version = 2 WHERE id = $1', [label]);
      await expect(undoThrough(ds, 'LabelVersions1796100000000')).rejects.toThrow(
        /more than one version/,
      );
      expect(await columnsOf(ds, 'run_evaluations')).toContain('label_version');
    } finally {
      await ds.destroy();
    }
  });
});
