import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * `"column" AS "property"` for every column of an entity, built once from TypeORM's
 * metadata: hand-written SQL on the hot paths then yields entity-shaped rows without
 * TypeORM building and hydrating a query on every request.
 */
export function selectColumns(db: DataSource, entity: EntityTarget<ObjectLiteral>): string {
  return db
    .getMetadata(entity)
    .columns.map((c) => `"${c.databaseName}" AS "${c.propertyName}"`)
    .join(', ');
}
