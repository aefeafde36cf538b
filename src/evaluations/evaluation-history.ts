import type { Principal } from '../auth/principal.js';
import { selectColumns } from '../database/columns.js';
import type { Statement } from '../writes/statement.js';
import type { WriteScope } from '../writes/write-scope.js';
import { toRunEvaluationRecordDto } from './dto/run-evaluation.dto.js';
import type { ChangeOperation } from './evaluation-change.entity.js';
import { EvaluationEntity } from './evaluation.entity.js';

/** Who made a change: a user, or an evaluator acting under a token with evaluator_id. */
export function actor(principal: Principal) {
  return {
    changedBy: principal.evaluatorId ? null : principal.sub,
    changedByEvaluatorId: principal.evaluatorId,
  };
}

/** A value with the label version it was checked against. */
type Versioned = Pick<EvaluationEntity, 'value' | 'labelVersion'>;

/** Adds to a write's statement the step that appends one change record to the history. */
export function changeRecorded(
  s: Statement,
  principal: Principal,
  evaluation: EvaluationEntity,
  operation: ChangeOperation,
  old: Versioned | null,
  next: Versioned | null,
): Statement {
  const { changedBy, changedByEvaluatorId } = actor(principal);
  const values = [
    evaluation.accountId,
    evaluation.runId,
    evaluation.id,
    operation,
    old?.value ?? null,
    next?.value ?? null,
    old?.labelVersion ?? null,
    next?.labelVersion ?? null,
    changedBy,
    changedByEvaluatorId,
    new Date(),
  ];
  return s.step(
    'change',
    `INSERT INTO evaluation_changes (account_id, run_id, evaluation_id, operation, old_value,
       new_value, old_label_version, new_label_version, changed_by, changed_by_evaluator_id,
       changed_at)
     VALUES (${values.map((v) => s.param(v)).join(', ')})`,
  );
}

/**
 * Adds the step that records an update in the history, the value and label version it
 * replaced taken from the rows of the step `from` (`old_value`, `old_label_version`), as an
 * update that locks its row in the same statement has them.
 */
export function updateRecorded(
  s: Statement,
  principal: Principal,
  evaluation: EvaluationEntity,
  from: string,
): Statement {
  const { changedBy, changedByEvaluatorId } = actor(principal);
  const values = [
    evaluation.accountId,
    evaluation.runId,
    evaluation.value,
    evaluation.labelVersion,
    changedBy,
    changedByEvaluatorId,
    new Date(),
  ].map((v) => s.param(v));
  const [account, run, value, version, by, byEvaluator, at] = values;
  return s.step(
    'change',
    `INSERT INTO evaluation_changes (account_id, run_id, evaluation_id, operation, old_value,
       new_value, old_label_version, new_label_version, changed_by, changed_by_evaluator_id,
       changed_at)
     SELECT ${account}, ${run}, id, 'update', old_value, ${value}, old_label_version, ${version},
            ${by}, ${byEvaluator}, ${at}
       FROM ${from}`,
  );
}

/**
 * Before a run is deleted (its evaluations go with it, by cascade): a delete record in each
 * evaluation's history and an evaluation.deleted event for each, oldest first.
 */
export async function deleteRunEvaluations(w: WriteScope, runId: string): Promise<void> {
  const { changedBy, changedByEvaluatorId } = actor(w.principal);
  const deleted = await w.tx.query<EvaluationEntity[]>(
    `WITH doomed AS (
       SELECT * FROM run_evaluations WHERE account_id = $1 AND run_id = $2 ORDER BY created_at, id),
     changes AS (
       INSERT INTO evaluation_changes
         (account_id, run_id, evaluation_id, operation, old_value, new_value, old_label_version,
          new_label_version, changed_by, changed_by_evaluator_id, changed_at)
       SELECT account_id, run_id, id, 'delete', value, NULL, label_version, NULL, $3, $4, $5
         FROM doomed)
     SELECT ${selectColumns(w.tx.connection, EvaluationEntity)} FROM doomed ORDER BY created_at, id`,
    [w.principal.accountId, runId, changedBy, changedByEvaluatorId, new Date()],
  );
  for (const e of deleted) w.emit('evaluation.deleted', toRunEvaluationRecordDto(e));
}
