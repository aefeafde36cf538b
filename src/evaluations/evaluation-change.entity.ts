import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const CHANGE_OPERATIONS = ['create', 'update', 'delete'] as const;
export type ChangeOperation = (typeof CHANGE_OPERATIONS)[number];

/**
 * The audit trail of an evaluation. It has no foreign key to the evaluation on purpose:
 * the record of a delete must outlive what was deleted.
 */
@Entity({ name: 'evaluation_changes' })
@Index('IDX_evaluation_changes_evaluation', ['accountId', 'evaluationId', 'seq'])
// Whether an evaluator ever wrote decides if deleting it removes or disables it.
@Index('IDX_evaluation_changes_evaluator', ['accountId', 'changedByEvaluatorId'], {
  where: '"changed_by_evaluator_id" IS NOT NULL',
})
export class EvaluationChangeEntity {
  // A sequence, not a clock: it orders changes exactly as they took effect.
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  seq!: string;

  @Column({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId!: string;

  @Column({ name: 'evaluation_id', type: 'uuid' })
  evaluationId!: string;

  @Column({ type: 'varchar', length: 8 })
  operation!: ChangeOperation;

  @Column({ name: 'old_value', type: 'double precision', nullable: true })
  oldValue!: number | null;

  @Column({ name: 'new_value', type: 'double precision', nullable: true })
  newValue!: number | null;

  /** The label version of old_value: null for a create. */
  @Column({ name: 'old_label_version', type: 'int', nullable: true })
  oldLabelVersion!: number | null;

  /** The label version of new_value: null for a delete. */
  @Column({ name: 'new_label_version', type: 'int', nullable: true })
  newLabelVersion!: number | null;

  @Column({ name: 'changed_by', type: 'text', nullable: true })
  changedBy!: string | null;

  @Column({ name: 'changed_by_evaluator_id', type: 'uuid', nullable: true })
  changedByEvaluatorId!: string | null;

  @Column({ name: 'changed_at', type: 'timestamptz', precision: 3 })
  changedAt!: Date;
}
