import type { EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import type { ChangeOperation } from './evaluation-change.entity.js';
import type { EvaluationEntity } from './evaluation.entity.js';

/** Who made a change: a user, or an evaluator acting under a token with evaluator_id. */
function actor(principal: Principal) {
  return {
    changedBy: principal.evaluatorId ? null : principal.sub,
    changedByEvaluatorId: principal.evaluatorId,
  };
}

/** Appends one change record; call it inside the transaction that made the change. */
export async function recordChange(
  tx: EntityManager,
  principal: Principal,
  evaluation: EvaluationEntity,
  operation: ChangeOperation,
  oldValue: number | null,
  newValue: number | null,
): Promise<void> {
  const { changedBy, changedByEvaluatorId } = actor(principal);
  await tx.query(
    `INSERT INTO evaluation_changes (account_id, run_id, evaluation_id, operation, old_value,
       new_value, changed_by, changed_by_evaluator_id, changed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      evaluation.accountId,
      evaluation.runId,
      evaluation.id,
      operation,
      oldValue,
      newValue,
      changedBy,
      changedByEvaluatorId,
      new Date(),
    ],
  );
}

/** Appends a delete record for every evaluation of a run that is about to be deleted. */
export async function recordRunDeletion(
  tx: EntityManager,
  principal: Principal,
  runId: string,
): Promise<void> {
  const { changedBy, changedByEvaluatorId } = actor(principal);
  await tx.query(
    `INSERT INTO evaluation_changes
       (account_id, run_id, evaluation_id, operation, old_value, new_value,
        changed_by, changed_by_evaluator_id, changed_at)
     SELECT account_id, run_id, id, 'delete', value, NULL, $3, $4, $5
       FROM run_evaluations
      WHERE account_id = $1 AND run_id = $2
      ORDER BY created_at, id`,
    [principal.accountId, runId, changedBy, changedByEvaluatorId, new Date()],
  );
}
