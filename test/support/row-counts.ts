import type { DataSource } from 'typeorm';

/**
 * Rows in every table of the schema but TypeORM's own: compared before and after requests
 * that failed, it shows whether any of them wrote anything.
 */
export async function rowCounts(ds: DataSource): Promise<Record<string, number>> {
  const tables = await ds.query<{ name: string }[]>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'migrations'
      ORDER BY table_name`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [{ n }] = await ds.query<{ n: string }[]>(`SELECT count(*) AS n FROM "${name}"`);
    counts[name] = Number(n);
  }
  return counts;
}
