import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import { DataSource, type EntityManager } from 'typeorm';
import { ASSAY_OPTIONS, type AssayModuleOptions } from '../assay-options.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { findPage, MAX_PAGE, type Page, type PageQueryDto } from '../common/paging.js';
import { UUID_VERSION, refuseNulls } from '../common/validation.js';
import { selectColumns } from '../database/columns.js';
import { isHoldableInstant } from '../database/instants.js';
import { headPosition, positionOf } from '../events/event-store.js';
import { WritePipeline } from '../writes/write-pipeline.js';
import { hostOf, refusedHost } from './address-guard.js';
import {
  type CreateWebhookDto,
  MAX_WEBHOOKS_PER_ACCOUNT,
  type UpdateWebhookDto,
} from './dto/create-webhook.dto.js';
import { toWebhookDto, type WebhookWithSecretDto } from './dto/webhook.dto.js';
import { hidingSecrets, newSecret } from './secrets.js';
import { type WebhookConfig, webhookConfig } from './webhook-options.js';
import { WebhookAttemptEntity, WebhookEntity } from './webhook.entity.js';

const notFound = (id: string) => ApiError.notFound('Webhook', id);

// Any constant will do, as long as it is Assay's alone: "hook" in ASCII. Registrations of
// one account take turns under it, so that its limit holds.
const REGISTRATION_LOCK = 0x686f6f6b;

/** Registered webhooks: their definitions, secrets, attempts and replays. */
@Injectable()
export class WebhooksService {
  private readonly columns: string;
  private readonly attemptColumns: string;
  readonly config: WebhookConfig;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly writes: WritePipeline,
    @Inject(ASSAY_OPTIONS) options: AssayModuleOptions,
  ) {
    this.columns = selectColumns(db, WebhookEntity);
    this.attemptColumns = selectColumns(db, WebhookAttemptEntity);
    this.config = webhookConfig(options.webhooks);
  }

  async create(principal: Principal, dto: CreateWebhookDto): Promise<WebhookWithSecretDto> {
    const url = await this.checkUrl(dto.url);
    const now = new Date();
    const webhook: WebhookEntity = Object.assign(new WebhookEntity(), {
      accountId: principal.accountId,
      id: randomUUID(),
      url,
      eventTypes: dto.event_types,
      description: dto.description ?? null,
      enabled: true,
      disabledReason: null,
      secret: newSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      seenPosition: '0',
      leaseUntil: null,
      leaseToken: null,
      createdBy: principal.sub,
      createdAt: now,
      updatedAt: null,
    });
    return this.writes.run(principal, async (w) => {
      await w.tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        REGISTRATION_LOCK,
        principal.accountId,
      ]);
      const [{ n }] = await w.tx.query<{ n: number }[]>(
        'SELECT count(*)::int AS n FROM webhooks WHERE account_id = $1',
        [principal.accountId],
      );
      if (n >= MAX_WEBHOOKS_PER_ACCOUNT) {
        throw new ApiError(
          'webhook_limit_reached',
          `This account already has ${MAX_WEBHOOKS_PER_ACCOUNT} webhooks, the most it may ` +
            'have; delete one, or send more event types to one endpoint.',
        );
      }
      // Events from now on: those already positioned went out before it existed.
      webhook.seenPosition = await headPosition(w.tx);
      await hidingSecrets(w.tx.insert(WebhookEntity, webhook));
      return { ...toWebhookDto(webhook), secret: webhook.secret };
    });
  }

  list(principal: Principal, page: PageQueryDto): Promise<Page<WebhookEntity>> {
    return findPage(
      this.db,
      {
        columns: this.columns,
        from: 'webhooks',
        where: ['account_id = $1'],
        params: [principal.accountId],
      },
      page,
    );
  }

  async get(principal: Principal, id: string): Promise<WebhookEntity> {
    const webhook = await this.db
      .getRepository(WebhookEntity)
      .findOneBy({ accountId: principal.accountId, id });
    if (!webhook) throw notFound(id);
    return webhook;
  }

  async update(principal: Principal, id: string, dto: UpdateWebhookDto): Promise<WebhookEntity> {
    refuseNulls(dto, ['url', 'event_types', 'enabled']);
    const url = dto.url === undefined ? undefined : await this.checkUrl(dto.url);
    return this.writes.run(principal, async (w) => {
      const webhook = await lock(w.tx, principal, id);
      w.precondition(toWebhookDto(webhook));
      if (url !== undefined) webhook.url = url;
      if (dto.event_types !== undefined) webhook.eventTypes = dto.event_types;
      if (dto.description !== undefined) webhook.description = dto.description;
      if (dto.enabled === false && webhook.enabled) {
        webhook.enabled = false;
        webhook.disabledReason = 'Disabled by its owner.';
      } else if (dto.enabled === true && !webhook.enabled) {
        webhook.enabled = true;
        webhook.disabledReason = null;
        // What waits is tried again at once, with a fresh retry schedule.
        await w.tx.query(
          `UPDATE webhook_deliveries SET attempts = 0, next_attempt_at = now()
            WHERE webhook_id = $1 AND status = 'pending'`,
          [id],
        );
      }
      webhook.updatedAt = new Date();
      await w.tx.save(webhook);
      return webhook;
    });
  }

  async remove(principal: Principal, id: string): Promise<void> {
    await this.writes.run(principal, async (w) => {
      const webhook = await lock(w.tx, principal, id);
      w.precondition(toWebhookDto(webhook));
      await w.tx.query(
        `WITH a AS (DELETE FROM webhook_attempts WHERE account_id = $1 AND webhook_id = $2),
              d AS (DELETE FROM webhook_deliveries WHERE webhook_id = $2)
         DELETE FROM webhooks WHERE account_id = $1 AND id = $2`,
        [principal.accountId, id],
      );
    });
  }

  /** A new secret; the one it replaces signs beside it for the overlap (24 h by default). */
  rotateSecret(principal: Principal, id: string): Promise<WebhookWithSecretDto> {
    return this.writes.run(principal, async (w) => {
      const webhook = await lock(w.tx, principal, id);
      const now = new Date();
      webhook.previousSecret = webhook.secret;
      webhook.previousSecretExpiresAt = new Date(
        now.getTime() + this.config.secretOverlapSeconds * 1000,
      );
      webhook.secret = newSecret();
      webhook.updatedAt = now;
      await hidingSecrets(w.tx.save(webhook));
      return { ...toWebhookDto(webhook), secret: webhook.secret };
    });
  }

  /** Its attempts, newest first, paged by `cursor` (the last one's place). */
  async attempts(
    principal: Principal,
    id: string,
    page: PageQueryDto,
  ): Promise<Page<WebhookAttemptEntity>> {
    await this.get(principal, id);
    const limit = page.limit ?? MAX_PAGE;
    const params: unknown[] = [principal.accountId, id, limit + 1];
    let before = '';
    if (page.cursor !== undefined) {
      if (!/^\d{1,19}$/.test(page.cursor)) {
        throw new ApiError(
          'invalid_cursor',
          'The cursor is not valid; use the one from the Link header of the previous page.',
        );
      }
      params.push(page.cursor);
      before = 'AND seq < $4';
    }
    const rows = await this.db.query<WebhookAttemptEntity[]>(
      `SELECT ${this.attemptColumns} FROM webhook_attempts
        WHERE account_id = $1 AND webhook_id = $2 ${before}
        ORDER BY seq DESC LIMIT $3`,
      params,
    );
    if (rows.length <= limit) return { items: rows };
    const items = rows.slice(0, limit);
    return { items, next: String(items[items.length - 1].seq) };
  }

  /**
   * Sends again every kept event of its types from `since` (an event id, that event
   * included, or an instant) on: its place in the outbox moves back there, and deliveries
   * of those events, done or not, are owed again, oldest first.
   */
  replay(
    principal: Principal,
    id: string,
    since: string,
  ): Promise<{ webhook_id: string; events: number }> {
    const instant = isUUID(since, UUID_VERSION) ? undefined : parseInstant(since);
    return this.writes.run(principal, async (w) => {
      const webhook = await lock(w.tx, principal, id);
      let from: string;
      if (instant === undefined) {
        const position = await positionOf(w.tx, principal.accountId, since.toLowerCase());
        if (position === null) {
          throw new ApiError(
            'unknown_event',
            `Event ${since} is not (or no longer) kept for this account; give an instant instead.`,
          );
        }
        from = (BigInt(position) - 1n).toString();
      } else {
        const [{ before }] = await w.tx.query<{ before: string | null }[]>(
          `SELECT (min(last_position - count))::text AS before FROM outbox_writes
            WHERE account_id = $1 AND occurred_at >= $2 AND last_position IS NOT NULL`,
          [principal.accountId, instant],
        );
        from = before ?? webhook.seenPosition;
      }
      if (BigInt(from) > BigInt(webhook.seenPosition)) from = webhook.seenPosition;
      const [{ events }] = await w.tx.query<{ events: number }[]>(
        `SELECT count(*)::int AS events
           FROM outbox_writes w
          CROSS JOIN LATERAL json_array_elements(w.events) WITH ORDINALITY AS e(event, n)
          WHERE w.account_id = $1 AND w.last_position > $2 AND w.last_position IS NOT NULL
            AND w.last_position - w.count + e.n > $2
            AND ('*' = ANY($3::text[]) OR e.event->>'type' = ANY($3::text[]))`,
        [principal.accountId, from, webhook.eventTypes],
      );
      webhook.seenPosition = from;
      await w.tx.query('UPDATE webhooks SET seen_position = $3 WHERE account_id = $1 AND id = $2', [
        principal.accountId,
        id,
        from,
      ]);
      return { webhook_id: id, events };
    });
  }

  /**
   * The URL as stored, once it passes every rule: http(s), no credentials, https unless
   * WEBHOOK_ALLOW_HTTP, and a host that resolves only to addresses a webhook may go to
   * unless WEBHOOK_ALLOW_PRIVATE.
   */
  private async checkUrl(text: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw invalidUrl('url must be an absolute http or https URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw invalidUrl(`url must be http or https, not ${url.protocol.slice(0, -1).slice(0, 20)}`);
    }
    if (url.username !== '' || url.password !== '') {
      throw refused(
        'url must not hold credentials (user:password@); authenticate the ' +
          'webhook by its signature instead',
      );
    }
    if (url.protocol === 'http:' && !this.config.allowHttp) {
      throw refused('url must be https (plain http needs WEBHOOK_ALLOW_HTTP=true)');
    }
    if (url.hash !== '') throw invalidUrl('url must not have a #fragment');
    if (!this.config.allowPrivate) {
      const host = hostOf(url);
      const reason = await refusedHost(host, this.config.lookup);
      if (reason !== undefined) throw refused(`url is refused: ${reason}`);
    }
    return text;
  }
}

const invalidUrl = (message: string) =>
  new ApiError('validation_failed', `${message}.`, [{ field: 'url', message }]);
const refused = (message: string) =>
  new ApiError('webhook_url_refused', `${message}.`, [{ field: 'url', message }]);

function parseInstant(text: string): Date {
  const at = new Date(text);
  if (
    !/^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d))?$/.test(text) ||
    Number.isNaN(at.getTime()) ||
    !isHoldableInstant(at)
  ) {
    throw new ApiError(
      'validation_failed',
      'since must be an event id (a UUID) or an ISO 8601 instant such as 2026-11-25T16:00:00Z.',
      [{ field: 'since', message: 'since must be an event id or an ISO 8601 instant' }],
    );
  }
  return at;
}

async function lock(tx: EntityManager, principal: Principal, id: string): Promise<WebhookEntity> {
  const webhook = await tx.findOne(WebhookEntity, {
    where: { accountId: principal.accountId, id },
    lock: { mode: 'pessimistic_write' },
  });
  if (!webhook) throw notFound(id);
  return webhook;
}
