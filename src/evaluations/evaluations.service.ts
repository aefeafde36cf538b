import { Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { JSONPathQuery } from 'json-p3';
import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { orderedUuids } from '../common/ordered-uuids.js';
import { findPage, type Page } from '../common/paging.js';
import { selectColumns } from '../database/columns.js';
import { pooledReads, type Reads } from '../database/pooled-reads.js';
import { EvaluationLabelsService } from '../evaluation-labels/evaluation-labels.service.js';
import { type LabelDefinition, valueProblem } from '../evaluation-labels/label-rules.js';
import { MetricsService, type WriteOutcome } from '../metrics/metrics.service.js';
import type { RunEntity } from '../runs/run.entity.js';
import { RowCache, type VersionedRow } from '../writes/row-cache.js';
import { Statement } from '../writes/statement.js';
import { WritePipeline } from '../writes/write-pipeline.js';
import type { SharedRead, WriteScope } from '../writes/write-scope.js';
import type { ListRunEvaluationsQueryDto } from './dto/create-run-evaluation.dto.js';
import { toRunEvaluationDto, toRunEvaluationRecordDto } from './dto/run-evaluation.dto.js';
import { EvaluationChangeEntity } from './evaluation-change.entity.js';
import { addListFilters } from './evaluation-filters.js';
import { actor, changeRecorded, updateRecorded } from './evaluation-history.js';
import { EvaluationEntity } from './evaluation.entity.js';
import { compileFieldPath, selectsSomething } from './field-path.js';

const evaluationNotFound = (id: string) => ApiError.notFound('Evaluation', id);

/** How many evaluations an instance keeps for their next update (the least recent go). */
export const KEPT_EVALUATIONS = 100_000;

/** One evaluation to create: a POSTed body with its run, or one item of a batch. */
export interface NewEvaluation {
  run_id: string;
  evaluation_label_id: string;
  value: number;
  output_name?: string | null;
  field_path?: string | null;
}

/** What became of one new evaluation: created, or refused with the reason. */
export type Outcome = { evaluation: EvaluationEntity } | { error: ApiError };

type TargetRun = Pick<RunEntity, 'id' | 'outputs'>;
export type KeptRun = TargetRun & VersionedRow;
type KeptLabel = TargetLabel & VersionedRow;
/** An evaluation with the version of its row, as read or as this instance last wrote it. */
type KeptEvaluation = EvaluationEntity & { version$: string };
/** What an update reads: the evaluation, with its version unless locked, and its label. */
type ToUpdate = Omit<EvaluationEntity, 'label'> & { version$?: string; label: KeptLabel };
/** A transaction, or a write made at once: what sends a statement. */
type Queryable = Pick<WriteScope, 'query'>;
/** What the rules read of a label (read as JSON: archived_at is text). */
type TargetLabel = LabelDefinition & { id: string; version: number; archivedAt: string | null };
/** What new evaluations are checked against, as `targetReads` reads it. */
export type Targets = { runs: TargetRun[]; labels: TargetLabel[] };

function checkValue(label: LabelDefinition, value: number): void {
  const problem = valueProblem(label, value);
  if (problem) {
    throw new ApiError('value_out_of_range', problem, [{ field: 'value', message: problem }]);
  }
}

/** The output_name and field_path rules, checked against what the run recorded. */
function checkTarget(run: TargetRun, item: NewEvaluation, fieldPath: JSONPathQuery | null): void {
  const outputs = run.outputs;
  if (outputs === null) return; // nothing recorded yet: nothing to check against
  let target: unknown = outputs;
  if (item.output_name !== undefined && item.output_name !== null) {
    if (!Object.hasOwn(outputs, item.output_name)) {
      const names = Object.keys(outputs);
      throw new ApiError(
        'unknown_output',
        `Run ${run.id} has no output named "${item.output_name}"; its outputs are: ` +
          `${names.length ? names.map((n) => `"${n}"`).join(', ') : 'none'}.`,
        [{ field: 'output_name', message: 'not an output of the run' }],
      );
    }
    target = outputs[item.output_name];
  }
  if (fieldPath && !selectsSomething(fieldPath, target)) {
    throw new ApiError(
      'field_path_not_found',
      `field_path "${item.field_path}" selects nothing in ` +
        `${item.output_name ? `output "${item.output_name}"` : 'the outputs'} of run ${run.id}.`,
      [{ field: 'field_path', message: 'selects no node' }],
    );
  }
}

const missing = (field: string, what: string, id: string) =>
  new ApiError('not_found', `${what} ${id} was not found.`, [
    { field, message: `no ${what.toLowerCase()} with this id in your account` },
  ]);

function checkItem(
  item: NewEvaluation,
  run: TargetRun | undefined,
  label: TargetLabel | undefined,
): void {
  // Syntax first: a bad path is a 400 whatever the run holds.
  const fieldPath = item.field_path != null ? compileFieldPath(item.field_path) : null;
  if (!run) throw missing('run_id', 'Run', item.run_id);
  if (!label) throw missing('evaluation_label_id', 'Evaluation label', item.evaluation_label_id);
  if (label.archivedAt) {
    throw new ApiError(
      'label_archived',
      `Label "${label.name}" is archived and takes no new evaluations; use a live label.`,
      [{ field: 'evaluation_label_id', message: 'the label is archived' }],
    );
  }
  checkValue(label, item.value);
  checkTarget(run, item, fieldPath);
}

const distinct = (ids: string[]) => [...new Set(ids)].sort();

@Injectable()
export class EvaluationsService {
  private readonly columns: string;
  /** GET one's statement, made once: its name is looked up by its text on every call. */
  private readonly getOne: string;
  /** The reads of GET one and GET list: the busiest statements, sent without a QueryRunner. */
  private readonly reads: Reads;
  /** Targets read by earlier writes: a write that finds its own here sends one statement. */
  private readonly keptRuns = new RowCache<KeptRun>('runs');
  private readonly keptLabels = new RowCache<KeptLabel>('evaluation_labels');
  /** Evaluations updated or read to be updated: a PUT that finds its own here reads nothing. */
  private readonly keptEvaluations = new LRUCache<string, KeptEvaluation>({
    max: KEPT_EVALUATIONS,
  });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly labels: EvaluationLabelsService,
    private readonly writes: WritePipeline,
    // Absent in a host app that serves no metrics.
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.columns = selectColumns(db, EvaluationEntity);
    this.getOne = `SELECT ${this.columns} FROM run_evaluations WHERE account_id = $1 AND run_id = $2 AND id = $3`;
    this.reads = pooledReads(db);
  }

  /** Creates one evaluation on a run; its refusal is thrown. */
  async create(principal: Principal, item: NewEvaluation): Promise<EvaluationEntity> {
    const [outcome] = await this.createMany(principal, [item]);
    if ('error' in outcome) throw outcome.error;
    return outcome.evaluation;
  }

  /**
   * Creates evaluations on any runs of the account, each checked by every rule as if it
   * were created alone, and answers what became of each, in order. With `atomic`, one
   * refusal writes nothing (the outcomes say why); otherwise each valid one is written.
   * Runs and labels are read once per distinct id, under shared locks so that none can
   * change or vanish before the write commits; the inserts are one statement.
   */
  createMany(principal: Principal, sent: NewEvaluation[], atomic = true): Promise<Outcome[]> {
    // Ids as stored: uuids compare without case in PostgreSQL, but not in a Map.
    const items = sent.map((i) => ({
      ...i,
      run_id: i.run_id.toLowerCase(),
      evaluation_label_id: i.evaluation_label_id.toLowerCase(),
    }));
    const runIds = distinct(items.map((i) => i.run_id));
    const labelIds = distinct(items.map((i) => i.evaluation_label_id));
    return this.writes.runAtOnce(principal, async (w) => {
      const targets =
        this.keptTargets(w, runIds, labelIds) ?? (await this.readTargets(w, runIds, labelIds));
      return this.createRead(w, items, targets, atomic);
    });
  }

  /**
   * The targets as earlier writes read them, when every one is kept and this is the write's
   * first try: its last statement checks they are unchanged. A retry reads them afresh.
   */
  private keptTargets(w: WriteScope, runIds: string[], labelIds: string[]): Targets | undefined {
    const kept = this.keptRows(w, runIds, labelIds);
    if (kept) this.dependOn(w, kept);
    return kept;
  }

  /**
   * keptTargets for `items` (ids in lower case), for a write that checks more before it
   * creates them: only when every item passes every rule on the kept rows. Otherwise
   * undefined, and the write depends on nothing kept: a refusal must rest on a fresh read.
   */
  keptTargetsPassing(w: WriteScope, items: NewEvaluation[]): Targets | undefined {
    const runIds = distinct(items.map((i) => i.run_id));
    const kept = this.keptRows(w, runIds, distinct(items.map((i) => i.evaluation_label_id)));
    if (!kept) return undefined;
    const runs = new Map(kept.runs.map((r) => [r.id, r]));
    const labels = new Map(kept.labels.map((l) => [l.id, l]));
    try {
      for (const i of items) checkItem(i, runs.get(i.run_id), labels.get(i.evaluation_label_id));
    } catch (err) {
      if (err instanceof ApiError) return undefined;
      throw err;
    }
    this.dependOn(w, kept);
    return kept;
  }

  /** Every one of the targets, kept, on the write's first try; else undefined. */
  private keptRows(
    w: WriteScope,
    runIds: string[],
    labelIds: string[],
  ): { runs: KeptRun[]; labels: KeptLabel[] } | undefined {
    if (w.inTransaction || w.attempt > 1) return undefined;
    const runs = this.keptRuns.all(w.principal.accountId, runIds);
    const labels = runs && this.keptLabels.all(w.principal.accountId, labelIds);
    return labels && { runs, labels };
  }

  /** The write's last statement checks that kept targets are unchanged. */
  private dependOn(w: WriteScope, kept: { runs: KeptRun[]; labels: KeptLabel[] }): void {
    w.reuse(this.keptRuns.table, kept.runs);
    w.reuse(this.keptLabels.table, kept.labels);
  }

  private async readTargets(w: WriteScope, runIds: string[], labelIds: string[]): Promise<Targets> {
    const targets = await w.readShared<Targets>(this.targetReads('$1', '$2', '$3'), [
      w.principal.accountId,
      runIds,
      labelIds,
    ]);
    this.keepTargets(w, targets);
    return targets;
  }

  /** Keeps a run read without a lock, with its version, for later writes (`keptTargetsPassing`). */
  keepRun(w: WriteScope, run: KeptRun): void {
    if (!w.inTransaction) this.keptRuns.keep(w.principal.accountId, [run]);
  }

  /** Keeps targets a write read (`targetReads`) for later writes, unless read in a transaction. */
  keepTargets(w: WriteScope, targets: Targets): void {
    if (w.inTransaction) return;
    this.keptRuns.keep(w.principal.accountId, targets.runs as KeptRun[]);
    this.keptLabels.keep(w.principal.accountId, targets.labels as KeptLabel[]);
  }

  /**
   * The runs' outputs and the labels that new evaluations are checked against, for
   * `WriteScope.readShared` (none can change or vanish before the write commits): `account`,
   * `runIds` and `labelIds` are its placeholders or SQL of the same types. A change that
   * reads more in the same statement reads these with it, then calls `createRead`.
   */
  targetReads(
    account: string,
    runIds: string,
    labelIds: string,
  ): Record<keyof Targets, SharedRead> {
    return {
      runs: {
        table: 'runs',
        columns: 'id, outputs',
        where: `account_id = ${account} AND id = ANY(${runIds}::uuid[])`,
      },
      labels: this.labels.sharedRead(account, labelIds),
    };
  }

  /**
   * createMany within a write that has already read the targets (`targetReads`): each item
   * checked by every rule, and the valid ones handed to the write's last statement. The
   * items' ids must be in lower case.
   */
  async createRead(
    w: WriteScope,
    items: NewEvaluation[],
    found: Targets,
    atomic = true,
  ): Promise<Outcome[]> {
    const runs = new Map(found.runs.map((r) => [r.id, r]));
    const labels = new Map(found.labels.map((l) => [l.id, l]));
    const now = new Date();
    // UUIDv7, made in order: evaluations created together list in the order they were sent.
    const ids = orderedUuids(items.length);
    const outcomes: Outcome[] = items.map((item, i) => {
      try {
        checkItem(item, runs.get(item.run_id), labels.get(item.evaluation_label_id));
      } catch (err) {
        if (err instanceof ApiError) return { error: err };
        throw err;
      }
      const { version } = labels.get(item.evaluation_label_id)!;
      return { evaluation: this.newEvaluation(w.principal, item, version, ids[i], now) };
    });
    const refused = outcomes.some((o) => 'error' in o);
    const created = outcomes.flatMap((o) => ('evaluation' in o ? [o.evaluation] : []));
    if (created.length > 0 && !(atomic && refused)) await this.insert(w, created);
    this.metrics?.evaluationsWritten('rejected', outcomes.length - created.length);
    if (!(atomic && refused)) this.counted(w, 'created', created.length);
    return outcomes;
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
      this.reads,
      { columns: this.columns, from: 'run_evaluations', where, params },
      query,
    );
  }

  async get(principal: Principal, runId: string, id: string): Promise<EvaluationEntity> {
    const [evaluation] = await this.reads.query<EvaluationEntity[]>(this.getOne, [
      principal.accountId,
      runId,
      id,
    ]);
    if (!evaluation) throw evaluationNotFound(id);
    return evaluation;
  }

  update(
    principal: Principal,
    runId: string,
    id: string,
    value: number,
  ): Promise<EvaluationEntity> {
    const work = this.writes.runAtOnce(principal, async (w) => {
      const locked = w.inTransaction || w.attempt > 1;
      const kept = locked ? undefined : this.keptForUpdate(w, runId, id);
      // Kept and unconditional: one statement that locks the row and records the value it
      // replaces, whatever it is by then.
      if (kept && !w.conditional) return this.updateKept(w, kept, value);
      // Else without a lock, as kept (one round trip) or read (two): the update takes effect
      // only on the row as it was then. Should another change have come first, again under a
      // lock, in turn.
      if (locked && !w.inTransaction) await w.begin();
      const {
        label,
        version$: version,
        ...read
      } = kept ?? (await this.readWithLabel(locked ? w.tx : w, principal, runId, id, locked));
      const evaluation = Object.assign(new EvaluationEntity(), read);
      w.precondition(toRunEvaluationDto(evaluation));
      checkValue(label, value);
      const old = { value: evaluation.value, labelVersion: evaluation.labelVersion };
      const s = this.updateStep(w, evaluation, label, value, (s) =>
        locked
          ? `WHERE e.id = ${s.param(evaluation.id)}`
          : `WHERE e.id = ${s.param(evaluation.id)} AND e.xmin::text = ${s.param(version)}`,
      );
      await w.lastly(changeRecorded(s, principal, evaluation, 'update', old, evaluation));
      w.emit('evaluation.updated', {
        ...toRunEvaluationRecordDto(evaluation),
        old_value: old.value,
        old_label_version: old.labelVersion,
      });
      return evaluation;
    });
    return this.metrics ? this.metrics.refusalsOf(work) : work;
  }

  /**
   * An update of an evaluation kept from an earlier write, in one statement: the row locked,
   * and the value it holds then recorded in the history and the event as the one replaced.
   * Only what never changes is taken of the kept row (its version plays no part).
   */
  private async updateKept(w: WriteScope, kept: ToUpdate, value: number) {
    const { label, ...rest } = kept;
    checkValue(label, value);
    const evaluation = Object.assign(new EvaluationEntity(), rest);
    const s = this.updateStep(
      w,
      evaluation,
      label,
      value,
      (s) => `FROM (SELECT id, value, label_version FROM run_evaluations
                WHERE account_id = ${s.param(evaluation.accountId)}
                  AND run_id = ${s.param(evaluation.runId)} AND id = ${s.param(evaluation.id)}
                FOR UPDATE) AS old WHERE e.id = old.id`,
      ', old.value AS old_value, old.label_version AS old_label_version',
    );
    await w.lastly(updateRecorded(s, w.principal, evaluation, 'updated'));
    w.emitEach('evaluation.updated', 1, {
      from: 'updated',
      orderBy: 'id',
      // The event as the other path makes it, the replaced value and version added last.
      data: (param) =>
        `(left(${param(JSON.stringify(toRunEvaluationRecordDto(evaluation)))}, -1)
          || ', "old_value": ' || to_json(old_value)::text
          || ', "old_label_version": ' || to_json(old_label_version)::text || '}')::json`,
    });
    return evaluation;
  }

  /**
   * The step `updated` of an update of `evaluation` to `value` under `label`'s version, on
   * the row that `target` (the SQL after the SET list, over `run_evaluations e`) chooses: it
   * must change one row, or the write runs again. The statement answers the row's new
   * version, which the instance keeps with the evaluation once committed.
   */
  private updateStep(
    w: WriteScope,
    evaluation: EvaluationEntity,
    label: KeptLabel,
    value: number,
    target: (s: Statement) => string,
    returning = '',
  ): Statement {
    Object.assign(evaluation, {
      value,
      labelVersion: label.version,
      updatedBy: w.principal.sub,
      updatedAt: new Date(),
    });
    const s = new Statement();
    s.step(
      'updated',
      `UPDATE run_evaluations e SET value = ${s.param(value)},
         label_version = ${s.param(label.version)}, updated_by = ${s.param(evaluation.updatedBy)},
         updated_at = ${s.param(evaluation.updatedAt)}
       ${target(s)}
       RETURNING e.id, e.xmin::text AS version${returning}`,
    );
    w.expectRows('updated', 1);
    s.answer = '(SELECT version FROM updated)';
    const key = `${w.principal.accountId}/${evaluation.id}`;
    w.afterCommit(() => {
      if (typeof w.answer === 'string') {
        this.keptEvaluations.set(key, { ...evaluation, version$: w.answer });
      }
    });
    this.counted(w, 'updated');
    return s;
  }

  async remove(principal: Principal, runId: string, id: string): Promise<void> {
    const work = this.writes.run(principal, async (w) => {
      const evaluation = await this.lockEvaluation(w.tx, principal, runId, id);
      w.precondition(toRunEvaluationDto(evaluation));
      const s = new Statement();
      s.step('deleted', `DELETE FROM run_evaluations WHERE id = ${s.param(id)}`);
      await w.lastly(changeRecorded(s, principal, evaluation, 'delete', evaluation, null));
      w.emit('evaluation.deleted', toRunEvaluationRecordDto(evaluation));
      this.counted(w, 'deleted');
      w.afterCommit(() => this.keptEvaluations.delete(`${principal.accountId}/${id}`));
    });
    await (this.metrics ? this.metrics.refusalsOf(work) : work);
  }

  /** Counts evaluations written, once the write has committed. */
  private counted(w: WriteScope, outcome: Exclude<WriteOutcome, 'rejected'>, count = 1): void {
    const metrics = this.metrics;
    if (metrics) w.afterCommit(() => metrics.evaluationsWritten(outcome, count));
  }

  /**
   * Every change of an evaluation, oldest first. It stays readable after the evaluation is
   * deleted (its last record is the delete): 404 only when it never existed in this run.
   */
  async history(
    principal: Principal,
    runId: string,
    id: string,
  ): Promise<EvaluationChangeEntity[]> {
    const changes = await this.db.getRepository(EvaluationChangeEntity).find({
      where: { accountId: principal.accountId, runId, evaluationId: id },
      order: { seq: 'ASC' },
    });
    if (changes.length === 0) throw evaluationNotFound(id);
    return changes;
  }

  private newEvaluation(
    principal: Principal,
    item: NewEvaluation,
    labelVersion: number,
    id: string,
    now: Date,
  ): EvaluationEntity {
    return Object.assign(new EvaluationEntity(), {
      id,
      accountId: principal.accountId,
      runId: item.run_id,
      evaluationLabelId: item.evaluation_label_id,
      outputName: item.output_name ?? null,
      fieldPath: item.field_path ?? null,
      value: item.value,
      labelVersion,
      createdBy: principal.evaluatorId ? null : principal.sub,
      createdByEvaluatorId: principal.evaluatorId,
      createdAt: now,
      updatedBy: null,
      updatedAt: now,
    });
  }

  /**
   * Inserts evaluations and their create records, and emits their events: one statement,
   * sent with the write's last.
   */
  private async insert(w: WriteScope, created: EvaluationEntity[]): Promise<void> {
    const { changedBy, changedByEvaluatorId } = actor(w.principal);
    const [first] = created;
    // One JSON array: one native JSON.stringify, where arrays of parameters would have each
    // element escaped again by the driver.
    const rows = created.map((e) => ({
      id: e.id,
      run_id: e.runId,
      label_id: e.evaluationLabelId,
      output_name: e.outputName,
      field_path: e.fieldPath,
      value: e.value,
      label_version: e.labelVersion,
    }));
    const s = new Statement();
    const [account, at] = [s.param(first.accountId), s.param(first.createdAt)];
    const [createdBy, evaluator] = [s.param(first.createdBy), s.param(first.createdByEvaluatorId)];
    s.step(
      'created',
      `INSERT INTO run_evaluations (id, account_id, run_id, evaluation_label_id, output_name,
         field_path, value, label_version, created_by, created_by_evaluator_id, created_at,
         updated_by, updated_at)
       SELECT id, ${account}, run_id, label_id, output_name, field_path, value, label_version,
              ${createdBy}, ${evaluator}, ${at}, NULL, ${at}
         FROM json_to_recordset(${s.param(JSON.stringify(rows))}::json)
           AS t(id uuid, run_id uuid, label_id uuid, output_name text, field_path text,
                value float8, label_version int)
       RETURNING id, run_id, evaluation_label_id, output_name, field_path, value, label_version`,
    );
    s.step(
      'changes',
      `INSERT INTO evaluation_changes (account_id, run_id, evaluation_id, operation, old_value,
         new_value, old_label_version, new_label_version, changed_by, changed_by_evaluator_id,
         changed_at)
       SELECT ${account}, run_id, id, 'create', NULL, value, NULL, label_version,
              ${s.param(changedBy)}, ${s.param(changedByEvaluatorId)}, ${at}
         FROM created`,
    );
    await w.lastly(s);
    // Each event is the evaluation as the API shows it. One is made here: the statement
    // that makes events from rows costs the database more than the row it makes.
    if (created.length === 1) {
      w.emit('evaluation.created', toRunEvaluationRecordDto(first));
      return;
    }
    // Many are made by the database from the inserted rows: a batch's 500 need no JSON
    // built here.
    w.emitEach('evaluation.created', created.length, {
      from: 'created',
      orderBy: 'id',
      data: (param) => {
        const shown = param(first.createdAt.toISOString());
        return `json_build_object('id', id, 'account_id', ${account}::text, 'run_id', run_id,
          'output_name', output_name, 'field_path', field_path,
          'evaluation_label_id', evaluation_label_id, 'value', value,
          'created_by', ${createdBy}::text, 'created_by_evaluator_id', ${evaluator}::uuid,
          'created_at', ${shown}::text, 'updated_by', NULL, 'updated_at', ${shown}::text,
          'label_version', label_version)`;
      },
    });
  }

  private async assertRun(principal: Principal, runId: string): Promise<void> {
    const rows = await this.reads.query<unknown[]>(
      'SELECT 1 FROM runs WHERE account_id = $1 AND id = $2',
      [principal.accountId, runId],
    );
    if (rows.length === 0) throw ApiError.notFound('Run', runId);
  }

  /**
   * Locks an evaluation to change it: concurrent changes take turns, each recorded with the
   * value it replaced. `also` adds to what is read with it.
   */
  private async lockEvaluation<Also extends object = object>(
    tx: Queryable,
    principal: Principal,
    runId: string,
    id: string,
    also = '',
    lock = 'FOR UPDATE',
  ): Promise<EvaluationEntity & Also> {
    const [evaluation] = await tx.query<(EvaluationEntity & Also)[]>(
      `SELECT ${this.columns}${also} FROM run_evaluations e
        WHERE account_id = $1 AND run_id = $2 AND id = $3 ${lock}`,
      [principal.accountId, runId, id],
    );
    if (!evaluation) throw evaluationNotFound(id);
    return evaluation;
  }

  /**
   * Reads an evaluation to change its value, with its label, in one statement: locked, or
   * (`locked` false) as it is, with its row version. The label is read without a lock: the
   * value is stored with the version it was checked against, and a version only ever widens
   * (a breaking change makes a new one), so a label changed meanwhile leaves it valid under
   * its version; and the lock, or the version the update requires, keeps the evaluation.
   */
  private async readWithLabel(
    db: Queryable,
    principal: Principal,
    runId: string,
    id: string,
    locked: boolean,
  ): Promise<ToUpdate> {
    const label = `, ${this.labels.rowJson('e.account_id', 'e.evaluation_label_id', true)} AS label`;
    const read = await this.lockEvaluation<Pick<ToUpdate, 'label' | 'version$'>>(
      db,
      principal,
      runId,
      id,
      locked ? label : `${label}, e.xmin::text AS "version$"`,
      locked ? 'FOR UPDATE' : '',
    );
    if (!locked) {
      const { label: read$, ...evaluation } = read;
      this.keptEvaluations.set(`${principal.accountId}/${id}`, evaluation as KeptEvaluation);
      this.keptLabels.keep(principal.accountId, [read$]);
    }
    return read;
  }

  /**
   * An evaluation to update and its label as earlier writes left or read them, when both are
   * kept: the update takes effect only on that version of the row, and the write's last
   * statement checks the label's.
   */
  private keptForUpdate(w: WriteScope, runId: string, id: string): ToUpdate | undefined {
    const account = w.principal.accountId;
    const evaluation = this.keptEvaluations.get(`${account}/${id}`);
    if (evaluation?.runId !== runId) return undefined;
    const [label] = this.keptLabels.all(account, [evaluation.evaluationLabelId]) ?? [];
    if (!label) return undefined;
    w.reuse(this.keptLabels.table, [label]);
    return { ...evaluation, label };
  }
}
