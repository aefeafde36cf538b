import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * `"column" AS "property"` for every column of an entity, built once from TypeORM's
 * metadata: hand-written SQL on the hot paths then yields entity-shaped rows without
 * TypeORM building and hydrating a query on every request. `alias` qualifies the columns.
 */
export function selectColumns(
  db: DataSource,
  entity: EntityTarget<ObjectLiteral>,
  alias?: string,
): string {
  const prefix = alias ? `${alias}.` : '';
  return db
    .getMetadata(entity)
    .columns.map((c) => `${prefix}"${c.databaseName}" AS "${c.propertyName}"`)
    .join(', ');
}
