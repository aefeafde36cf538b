import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { EvaluationLabelEntity, LabelScaleColumns } from './evaluation-label.entity.js';

/**
 * One version of a label's scale: the definition its evaluations were validated against.
 * A breaking change makes a new one; a compatible change (a wider range, a category added at
 * the end of a categorical label) widens the current one in place, so every value it ever
 * allowed still fits.
 */
@Entity({ name: 'evaluation_label_versions' })
export class EvaluationLabelVersionEntity extends LabelScaleColumns {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @PrimaryColumn({ name: 'label_id', type: 'uuid' })
  labelId!: string;

  @PrimaryColumn({ type: 'int' })
  version!: number;

  @Column({ name: 'created_by', type: 'text', nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @ManyToOne(() => EvaluationLabelEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn([
    { name: 'account_id', referencedColumnName: 'accountId' },
    { name: 'label_id', referencedColumnName: 'id' },
  ])
  label?: Relation<EvaluationLabelEntity>;
}
