import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, isUUID, Max, Min } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EntityManager } from 'typeorm';
import { ApiError } from './api-error.js';
import { toInt, UUID_VERSION } from './validation.js';

export const MAX_PAGE = 1000;

/** `limit` and `cursor`, shared by every list. */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE, default: MAX_PAGE, type: 'integer' })
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'limit must be a whole number from 1 to 1000' })
  @Min(1, { message: 'limit must be a whole number from 1 to 1000' })
  @Max(MAX_PAGE, { message: 'limit must be a whole number from 1 to 1000' })
  limit?: number;

  @ApiPropertyOptional({
    description: 'Opaque position from the `Link: <…>; rel="next"` header of the previous page.',
  })
  @IsOptional()
  @IsString()
  cursor?: string;
}

interface Position {
  createdAt: Date;
  id: string;
}

export interface Page<T> {
  items: T[];
  /** Where the next page starts, when more rows remain. */
  next?: string;
}

function encodeCursor(row: Position): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

/** A cursor is short; anything longer was not made by encodeCursor. */
const MAX_CURSOR = 200;

// toISOString of a year from 0001 to 9999: what encodeCursor writes and PostgreSQL reads.
const INSTANT = /^(?!0000)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function decodeCursor(cursor: string): Position {
  try {
    if (cursor.length <= MAX_CURSOR) {
      const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
      const createdAt = new Date(String(at));
      if (
        typeof at === 'string' &&
        INSTANT.test(at) &&
        !Number.isNaN(createdAt.getTime()) &&
        createdAt.toISOString() === at &&
        typeof id === 'string' &&
        isUUID(id, UUID_VERSION)
      ) {
        return { createdAt, id };
      }
    }
  } catch {
    // fall through to the error below
  }
  throw new ApiError(
    'invalid_cursor',
    'The cursor is not valid; use the one from the Link header of the previous page.',
  );
}

/** One list query: what to select, from where, and under which conditions ($1… in `params`). */
export interface ListQuery {
  columns: string;
  from: string;
  where: string[];
  params: unknown[];
}

/**
 * Keyset paging, oldest first by (created_at, id): each page starts strictly after the
 * last row of the one before, so rows written meanwhile never shift or repeat a page.
 */
export async function findPage<T extends Position>(
  db: Pick<EntityManager, 'query'>,
  list: ListQuery,
  page: PageQueryDto,
): Promise<Page<T>> {
  const limit = page.limit ?? MAX_PAGE;
  const where = [...list.where];
  const params = [...list.params];
  if (page.cursor !== undefined) {
    const after = decodeCursor(page.cursor);
    params.push(after.createdAt, after.id);
    where.push(`(created_at, id) > ($${params.length - 1}, $${params.length})`);
  }
  params.push(limit + 1);
  const rows = await db.query<T[]>(
    `SELECT ${list.columns} FROM ${list.from} WHERE ${where.join(' AND ')}
      ORDER BY created_at, id LIMIT $${params.length}`,
    params,
  );
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, next: encodeCursor(items[items.length - 1]) };
}

/** Announces the next page as `Link: <url>; rel="next"`, keeping the request's filters. */
export function linkNextPage(request: FastifyRequest, reply: FastifyReply, next?: string): void {
  if (!next) return;
  const url = new URL(request.url, 'http://assay.invalid');
  url.searchParams.set('cursor', next);
  reply.header('Link', `<${url.pathname}${url.search}>; rel="next"`);
}
