import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { JSONPathQuery } from 'json-p3';
import { DataSource, type EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { findPage, type Page } from '../common/paging.js';
import type { EvaluationLabelEntity } from '../evaluation-labels/evaluation-label.entity.js';
import { EvaluationLabelsService } from '../evaluation-labels/evaluation-labels.service.js';
import { valueProblem } from '../evaluation-labels/label-rules.js';
import { selectColumns } from '../database/columns.js';
import type { RunEntity } from '../runs/run.entity.js';
import type {
  CreateRunEvaluationDto,
  ListRunEvaluationsQueryDto,
} from './dto/create-run-evaluation.dto.js';
import { EvaluationChangeEntity } from './evaluation-change.entity.js';
import { addListFilters } from './evaluation-filters.js';
import { recordChange } from './evaluation-history.js';
import { EvaluationEntity } from './evaluation.entity.js';
import { compileFieldPath, selectsSomething } from './field-path.js';

const evaluationNotFound = (id: string) => ApiError.notFound('Evaluation', id);

function checkValue(label: EvaluationLabelEntity, value: number): void {
  const problem = valueProblem(label, value);
  if (problem) {
    throw new ApiError('value_out_of_range', problem, [{ field: 'value', message: problem }]);
  }
}

/** The output_name and field_path rules, checked against what the run recorded. */
function checkTarget(
  run: Pick<RunEntity, 'id' | 'outputs'>,
  dto: CreateRunEvaluationDto,
  fieldPath: JSONPathQuery | null,
): void {
  const outputs = run.outputs;
  if (outputs === null) return; // nothing recorded yet: nothing to check against
  let target: unknown = outputs;
  if (dto.output_name !== undefined && dto.output_name !== null) {
    if (!Object.hasOwn(outputs, dto.output_name)) {
      const names = Object.keys(outputs);
      throw new ApiError(
        'unknown_output',
        `Run ${run.id} has no output named "${dto.output_name}"; its outputs are: ` +
          `${names.length ? names.map((n) => `"${n}"`).join(', ') : 'none'}.`,
        [{ field: 'output_name', message: 'not an output of the run' }],
      );
    }
    target = outputs[dto.output_name];
  }
  if (fieldPath) {
    if (!selectsSomething(fieldPath, target)) {
      throw new ApiError(
        'field_path_not_found',
        `field_path "${dto.field_path}" selects nothing in ` +
          `${dto.output_name ? `output "${dto.output_name}"` : 'the outputs'} of run ${run.id}.`,
        [{ field: 'field_path', message: 'selects no node' }],
      );
    }
  }
}

@Injectable()
export class EvaluationsService {
  private readonly columns: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly labels: EvaluationLabelsService,
  ) {
    this.columns = selectColumns(db, EvaluationEntity);
  }

  create(
    principal: Principal,
    runId: string,
    dto: CreateRunEvaluationDto,
  ): Promise<EvaluationEntity> {
    // Syntax first: a bad path is a 400 whatever the run holds.
    const fieldPath = dto.field_path != null ? compileFieldPath(dto.field_path) : null;
    return this.db.transaction(async (tx) => {
      // Shared locks: the run and label cannot change or vanish until this commits.
      const run = await this.lockRun(tx, principal, runId);
      const label = await this.labels.lock(
        tx,
        principal,
        dto.evaluation_label_id,
        'pessimistic_read',
      );
      if (label.archivedAt) {
        throw new ApiError(
          'label_archived',
          `Label "${label.name}" is archived and takes no new evaluations; use a live label.`,
          [{ field: 'evaluation_label_id', message: 'the label is archived' }],
        );
      }
      checkValue(label, dto.value);
      checkTarget(run, dto, fieldPath);
      const now = new Date();
      const evaluation = Object.assign(new EvaluationEntity(), {
        id: randomUUID(),
        accountId: principal.accountId,
        runId,
        evaluationLabelId: label.id,
        outputName: dto.output_name ?? null,
        fieldPath: dto.field_path ?? null,
        value: dto.value,
        createdBy: principal.evaluatorId ? null : principal.sub,
        createdByEvaluatorId: principal.evaluatorId,
        createdAt: now,
        updatedBy: null,
        updatedAt: now,
      });
      await tx.query(
        `INSERT INTO run_evaluations (id, account_id, run_id, evaluation_label_id, output_name,
           field_path, value, created_by, created_by_evaluator_id, created_at, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          evaluation.id,
          evaluation.accountId,
          evaluation.runId,
          evaluation.evaluationLabelId,
          evaluation.outputName,
          evaluation.fieldPath,
          evaluation.value,
          evaluation.createdBy,
          evaluation.createdByEvaluatorId,
          evaluation.createdAt,
          evaluation.updatedBy,
          evaluation.updatedAt,
        ],
      );
      await recordChange(tx, principal, evaluation, 'create', null, evaluation.value);
      return evaluation;
    });
  }

  async list(
    principal: Principal,
    runId: string,
    query: ListRunEvaluationsQueryDto,
  ): Promise<Page<EvaluationEntity>> {
    await this.assertRun(principal, runId);
    const where = ['account_id = $1', 'run_id = $2'];
    const params: unknown[] = [principal.accountId, runId];
    addListFilters(query, where, params);
    return findPage(
      this.db,
      { columns: this.columns, from: 'run_evaluations', where, params },
      query,
    );
  }

  async get(principal: Principal, runId: string, id: string): Promise<EvaluationEntity> {
    const [evaluation] = await this.db.query<EvaluationEntity[]>(
      `SELECT ${this.columns} FROM run_evaluations WHERE account_id = $1 AND run_id = $2 AND id = $3`,
      [principal.accountId, runId, id],
    );
    if (!evaluation) throw evaluationNotFound(id);
    return evaluation;
  }

  update(
    principal: Principal,
    runId: string,
    id: string,
    value: number,
  ): Promise<EvaluationEntity> {
    return this.db.transaction(async (tx) => {
      // The row lock makes concurrent updates take turns, each recorded with the value it replaced.
      const evaluation = await this.lockEvaluation(tx, principal, runId, id);
      const label = await this.labels.lock(
        tx,
        principal,
        evaluation.evaluationLabelId,
        'pessimistic_read',
      );
      checkValue(label, value);
      const oldValue = evaluation.value;
      Object.assign(evaluation, { value, updatedBy: principal.sub, updatedAt: new Date() });
      await tx.query(
        'UPDATE run_evaluations SET value = $1, updated_by = $2, updated_at = $3 WHERE id = $4',
        [value, evaluation.updatedBy, evaluation.updatedAt, id],
      );
      await recordChange(tx, principal, evaluation, 'update', oldValue, value);
      return evaluation;
    });
  }

  async remove(principal: Principal, runId: string, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const evaluation = await this.lockEvaluation(tx, principal, runId, id);
      await tx.query('DELETE FROM run_evaluations WHERE id = $1', [id]);
      await recordChange(tx, principal, evaluation, 'delete', evaluation.value, null);
    });
  }

  async history(
    principal: Principal,
    runId: string,
    id: string,
  ): Promise<EvaluationChangeEntity[]> {
    await this.get(principal, runId, id);
    return this.db.getRepository(EvaluationChangeEntity).find({
      where: { accountId: principal.accountId, evaluationId: id },
      order: { seq: 'ASC' },
    });
  }

  private async assertRun(principal: Principal, runId: string): Promise<void> {
    const rows = await this.db.query<unknown[]>(
      'SELECT 1 FROM runs WHERE account_id = $1 AND id = $2',
      [principal.accountId, runId],
    );
    if (rows.length === 0) throw ApiError.notFound('Run', runId);
  }

  /** The run's outputs, under a shared lock: the run cannot change or vanish until commit. */
  private async lockRun(
    tx: EntityManager,
    principal: Principal,
    runId: string,
  ): Promise<Pick<RunEntity, 'id' | 'outputs'>> {
    const [run] = await tx.query<Pick<RunEntity, 'id' | 'outputs'>[]>(
      'SELECT id, outputs FROM runs WHERE account_id = $1 AND id = $2 FOR SHARE',
      [principal.accountId, runId],
    );
    if (!run) throw ApiError.notFound('Run', runId);
    return run;
  }

  private async lockEvaluation(
    tx: EntityManager,
    principal: Principal,
    runId: string,
    id: string,
  ): Promise<EvaluationEntity> {
    const [evaluation] = await tx.query<EvaluationEntity[]>(
      `SELECT ${this.columns} FROM run_evaluations
        WHERE account_id = $1 AND run_id = $2 AND id = $3 FOR UPDATE`,
      [principal.accountId, runId, id],
    );
    if (!evaluation) throw evaluationNotFound(id);
    return evaluation;
  }
}
