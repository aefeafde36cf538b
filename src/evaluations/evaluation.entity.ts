import {
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  type Relation,
} from 'typeorm';
import { EvaluationLabelEntity } from '../evaluation-labels/evaluation-label.entity.js';
import { RunEntity } from '../runs/run.entity.js';

/** One score of one label on a run, an output of it, or a field inside that output. */
@Entity({ name: 'run_evaluations' })
@Index('IDX_run_evaluations_run_order', ['accountId', 'runId', 'createdAt', 'id'])
@Index('IDX_run_evaluations_label_order', ['accountId', 'evaluationLabelId', 'createdAt', 'id'])
@Index('IDX_run_evaluations_order', ['accountId', 'createdAt', 'id'])
export class EvaluationEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId!: string;

  @Column({ name: 'evaluation_label_id', type: 'uuid' })
  evaluationLabelId!: string;

  @Column({ name: 'output_name', type: 'text', nullable: true })
  outputName!: string | null;

  @Column({ name: 'field_path', type: 'text', nullable: true })
  fieldPath!: string | null;

  @Column({ type: 'double precision' })
  value!: number;

  /** The version of the label's scale the value was validated against. */
  @Column({ name: 'label_version', type: 'int' })
  labelVersion!: number;

  @Column({ name: 'created_by', type: 'text', nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_by_evaluator_id', type: 'uuid', nullable: true })
  createdByEvaluatorId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_by', type: 'text', nullable: true })
  updatedBy!: string | null;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt!: Date;

  // Relations exist only to declare the foreign keys; the service never loads them.
  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn([
    { name: 'account_id', referencedColumnName: 'accountId' },
    { name: 'run_id', referencedColumnName: 'id' },
  ])
  run?: Relation<RunEntity>;

  @ManyToOne(() => EvaluationLabelEntity, { onDelete: 'RESTRICT', nullable: false })
  @JoinColumn([
    { name: 'account_id', referencedColumnName: 'accountId' },
    { name: 'evaluation_label_id', referencedColumnName: 'id' },
  ])
  label?: Relation<EvaluationLabelEntity>;
}
