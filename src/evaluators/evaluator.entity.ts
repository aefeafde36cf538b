import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { JsonObject } from '../runs/run.entity.js';

export const EVALUATOR_KINDS = ['llm_judge', 'code', 'heuristic', 'human_panel', 'other'] as const;
export type EvaluatorKind = (typeof EVALUATOR_KINDS)[number];

/** An automated evaluator an account registered; tokens naming it may write. */
@Entity({ name: 'evaluators' })
@Index('IDX_evaluators_order', ['accountId', 'createdAt', 'id'])
@Index('UQ_evaluators_name', ['accountId', 'name'], { unique: true })
export class EvaluatorEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: EvaluatorKind;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  version!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  metadata!: JsonObject | null;

  @Column({ name: 'disabled_at', type: 'timestamptz', precision: 3, nullable: true })
  disabledAt!: Date | null;

  @Column({ name: 'created_by', type: 'text', nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, nullable: true })
  updatedAt!: Date | null;
}
