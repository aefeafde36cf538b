import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { findPage, type Page, type PageQueryDto } from '../common/paging.js';
import { sqlState, UNIQUE_VIOLATION } from '../common/pg-errors.js';
import { selectColumns } from '../database/columns.js';
import { deleteRunEvaluations } from '../evaluations/evaluation-history.js';
import { WritePipeline } from '../writes/write-pipeline.js';
import type { CreateRunDto, UpdateRunDto } from './dto/create-run.dto.js';
import { toRunDto } from './dto/run.dto.js';
import { RunEntity } from './run.entity.js';

const notFound = (id: string) => ApiError.notFound('Run', id);

/** Copies the fields a request sent (null included) onto a run; absent ones stay. */
function assignFields(run: RunEntity, dto: UpdateRunDto): void {
  if (dto.name !== undefined) run.name = dto.name;
  if (dto.workflow !== undefined) run.workflow = dto.workflow;
  if (dto.status !== undefined) run.status = dto.status;
  if (dto.inputs !== undefined) run.inputs = dto.inputs;
  if (dto.outputs !== undefined) run.outputs = dto.outputs;
  if (dto.metadata !== undefined) run.metadata = dto.metadata;
  if (dto.completed_at !== undefined) {
    run.completedAt = dto.completed_at === null ? null : new Date(dto.completed_at);
  }
}

/** A run of the account, locked for a change until the write commits. */
async function lock(tx: EntityManager, principal: Principal, id: string): Promise<RunEntity> {
  const run = await tx.findOne(RunEntity, {
    where: { accountId: principal.accountId, id },
    lock: { mode: 'pessimistic_write' },
  });
  if (!run) throw notFound(id);
  return run;
}

@Injectable()
export class RunsService {
  private readonly columns: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly writes: WritePipeline,
  ) {
    this.columns = selectColumns(db, RunEntity);
  }

  create(principal: Principal, dto: CreateRunDto): Promise<RunEntity> {
    const run = Object.assign(new RunEntity(), {
      accountId: principal.accountId,
      id: dto.id?.toLowerCase() ?? randomUUID(),
      name: null,
      workflow: null,
      status: null,
      inputs: null,
      outputs: null,
      metadata: null,
      createdBy: principal.sub,
      createdAt: new Date(),
      updatedAt: null,
      completedAt: null,
    });
    assignFields(run, dto);
    return this.writes.run(principal, async (w) => {
      try {
        await w.tx.getRepository(RunEntity).insert(run);
      } catch (err) {
        if (sqlState(err) === UNIQUE_VIOLATION) {
          throw new ApiError(
            'conflict',
            `A run with id ${run.id} already exists; choose another id.`,
          );
        }
        throw err;
      }
      w.emit('run.created', toRunDto(run));
      return run;
    });
  }

  list(principal: Principal, page: PageQueryDto): Promise<Page<RunEntity>> {
    return findPage(
      this.db,
      {
        columns: this.columns,
        from: 'runs',
        where: ['account_id = $1'],
        params: [principal.accountId],
      },
      page,
    );
  }

  async get(principal: Principal, id: string): Promise<RunEntity> {
    const run = await this.db
      .getRepository(RunEntity)
      .findOneBy({ accountId: principal.accountId, id });
    if (!run) throw notFound(id);
    return run;
  }

  update(principal: Principal, id: string, dto: UpdateRunDto): Promise<RunEntity> {
    return this.writes.run(principal, async (w) => {
      const run = await lock(w.tx, principal, id);
      w.precondition(toRunDto(run));
      assignFields(run, dto);
      run.updatedAt = new Date();
      await w.tx.save(run);
      w.emit('run.updated', toRunDto(run));
      return run;
    });
  }

  /** Deletes a run with its evaluations, leaving a delete record in each one's history. */
  async remove(principal: Principal, id: string): Promise<void> {
    await this.writes.run(principal, async (w) => {
      const run = await lock(w.tx, principal, id);
      w.precondition(toRunDto(run));
      await deleteRunEvaluations(w, id);
      await w.tx.delete(RunEntity, { accountId: principal.accountId, id });
      w.emit('run.deleted', toRunDto(run));
    });
  }
}
