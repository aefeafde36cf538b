import { randomUUID } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { refuseNulls } from '../common/validation.js';
import { findPage, type Page, type PageQueryDto } from '../common/paging.js';
import { conflictIfTaken } from '../common/pg-errors.js';
import { selectColumns } from '../database/columns.js';
import type { WriteCheck } from '../writes/write-check.js';
import { WritePipeline } from '../writes/write-pipeline.js';
import type { WriteScope } from '../writes/write-scope.js';
import type { CreateEvaluatorDto, UpdateEvaluatorDto } from './dto/create-evaluator.dto.js';
import { toEvaluatorDto } from './dto/evaluator.dto.js';
import { EvaluatorEntity } from './evaluator.entity.js';

const notFound = (id: string) => ApiError.notFound('Evaluator', id);

/** Runs a write, turning a clash with another evaluator's name into a 409. */
const uniqueName = <T>(name: string, write: () => Promise<T>) =>
  conflictIfTaken(
    `An evaluator named "${name}" is already registered; choose another name.`,
    write,
  );

/**
 * Registered evaluators, and the check that lets a token carrying `evaluator_id` write only
 * for a registered, enabled evaluator of its own account.
 */
@Injectable()
export class EvaluatorsService implements WriteCheck, OnModuleInit {
  private readonly columns: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly writes: WritePipeline,
  ) {
    this.columns = selectColumns(db, EvaluatorEntity);
  }

  onModuleInit(): void {
    this.writes.addCheck(this);
  }

  /** Refuses the write of an evaluator token whose evaluator is unknown or disabled. */
  async check(scope: WriteScope): Promise<void> {
    const id = scope.principal.evaluatorId;
    if (id === null) return;
    // Read shared: the evaluator cannot be disabled or removed before this write commits.
    const {
      evaluators: [row],
    } = await scope.readShared<{ evaluators: { id: string; disabled_at: string | null }[] }>(
      {
        evaluators: {
          table: 'evaluators',
          columns: 'id, disabled_at',
          where: 'account_id = $1 AND id = $2',
        },
      },
      [scope.principal.accountId, id],
    );
    if (!row) {
      throw new ApiError(
        'evaluator_not_registered',
        `Evaluator ${id} is not registered in this account; register it with ` +
          "POST /v1/evaluators and use its id as the token's evaluator_id.",
      );
    }
    if (row.disabled_at !== null) {
      throw new ApiError(
        'evaluator_disabled',
        `Evaluator ${id} is disabled and may no longer write; its evaluations stay readable.`,
      );
    }
  }

  create(principal: Principal, dto: CreateEvaluatorDto): Promise<EvaluatorEntity> {
    const evaluator: EvaluatorEntity = Object.assign(new EvaluatorEntity(), {
      accountId: principal.accountId,
      id: randomUUID(),
      name: dto.name,
      kind: dto.kind,
      description: dto.description ?? null,
      version: dto.version ?? null,
      metadata: dto.metadata ?? null,
      disabledAt: null,
      createdBy: principal.sub,
      createdAt: new Date(),
      updatedAt: null,
    });
    return this.writes.run(principal, async (w) => {
      await uniqueName(evaluator.name, () =>
        w.tx.insert(EvaluatorEntity, evaluator as QueryDeepPartialEntity<EvaluatorEntity>),
      );
      w.emit('evaluator.created', toEvaluatorDto(evaluator));
      return evaluator;
    });
  }

  list(principal: Principal, page: PageQueryDto): Promise<Page<EvaluatorEntity>> {
    return findPage(
      this.db,
      {
        columns: this.columns,
        from: 'evaluators',
        where: ['account_id = $1'],
        params: [principal.accountId],
      },
      page,
    );
  }

  async get(principal: Principal, id: string): Promise<EvaluatorEntity> {
    const evaluator = await this.db
      .getRepository(EvaluatorEntity)
      .findOneBy({ accountId: principal.accountId, id });
    if (!evaluator) throw notFound(id);
    return evaluator;
  }

  update(principal: Principal, id: string, dto: UpdateEvaluatorDto): Promise<EvaluatorEntity> {
    refuseNulls(dto, ['name', 'kind']);
    return this.writes.run(principal, async (w) => {
      const evaluator = await lock(w.tx, principal, id);
      w.precondition(toEvaluatorDto(evaluator));
      if (dto.name !== undefined) evaluator.name = dto.name;
      if (dto.kind !== undefined) evaluator.kind = dto.kind;
      if (dto.description !== undefined) evaluator.description = dto.description;
      if (dto.version !== undefined) evaluator.version = dto.version;
      if (dto.metadata !== undefined) evaluator.metadata = dto.metadata;
      evaluator.updatedAt = new Date();
      await uniqueName(evaluator.name, () => w.tx.save(evaluator));
      w.emit('evaluator.updated', toEvaluatorDto(evaluator));
      return evaluator;
    });
  }

  /** Removes an evaluator that never wrote; disables one that did, so its work stays readable. */
  async remove(principal: Principal, id: string): Promise<void> {
    await this.writes.run(principal, async (w) => {
      const evaluator = await lock(w.tx, principal, id);
      w.precondition(toEvaluatorDto(evaluator));
      const [{ wrote }] = await w.tx.query<{ wrote: boolean }[]>(
        `SELECT EXISTS (SELECT 1 FROM evaluation_changes
                         WHERE account_id = $1 AND changed_by_evaluator_id = $2) AS wrote`,
        [principal.accountId, id],
      );
      if (!wrote) {
        await w.tx.delete(EvaluatorEntity, { accountId: principal.accountId, id });
        w.emit('evaluator.deleted', toEvaluatorDto(evaluator));
      } else if (!evaluator.disabledAt) {
        evaluator.disabledAt = new Date();
        evaluator.updatedAt = evaluator.disabledAt;
        await w.tx.save(evaluator);
        w.emit('evaluator.disabled', toEvaluatorDto(evaluator));
      }
    });
  }
}

async function lock(tx: EntityManager, principal: Principal, id: string): Promise<EvaluatorEntity> {
  const evaluator = await tx.findOne(EvaluatorEntity, {
    where: { accountId: principal.accountId, id },
    lock: { mode: 'pessimistic_write' },
  });
  if (!evaluator) throw notFound(id);
  return evaluator;
}
