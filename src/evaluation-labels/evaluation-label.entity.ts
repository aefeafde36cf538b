import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const VALUE_TYPES = ['binary', 'continuous', 'categorical', 'ordinal'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/** A label's scale: which values an evaluation of it may take. */
export abstract class LabelScaleColumns {
  @Column({ name: 'value_type', type: 'varchar', length: 16 })
  valueType!: ValueType;

  @Column({ name: 'min_value', type: 'double precision', nullable: true })
  minValue!: number | null;

  @Column({ name: 'max_value', type: 'double precision', nullable: true })
  maxValue!: number | null;

  @Column({ type: 'jsonb', nullable: true })
  categories!: string[] | null;
}

/** What is judged, and which values an evaluation of it may take. */
@Entity({ name: 'evaluation_labels' })
@Index('IDX_evaluation_labels_order', ['accountId', 'createdAt', 'id'])
@Index('UQ_evaluation_labels_live_name', ['accountId', 'name'], {
  unique: true,
  where: '"archived_at" IS NULL',
})
export class EvaluationLabelEntity extends LabelScaleColumns {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  /** The current version of its scale (EvaluationLabelVersionEntity), from 1. */
  @Column({ type: 'int' })
  version!: number;

  /** Which way is better, for comparisons; null for categorical labels. */
  @Column({ name: 'higher_is_better', type: 'boolean', nullable: true })
  higherIsBetter!: boolean | null;

  @Column({ name: 'archived_at', type: 'timestamptz', precision: 3, nullable: true })
  archivedAt!: Date | null;

  @Column({ name: 'created_by', type: 'text', nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, nullable: true })
  updatedAt!: Date | null;
}
