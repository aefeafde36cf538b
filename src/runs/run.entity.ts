import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const RUN_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export type JsonObject = Record<string, unknown>;

/** A workflow run. Keyed by account first, so ids never collide across tenants. */
@Entity({ name: 'runs' })
@Index('IDX_runs_order', ['accountId', 'createdAt', 'id'])
export class RunEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  @Column({ type: 'text', nullable: true })
  workflow!: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  status!: RunStatus | null;

  @Column({ type: 'jsonb', nullable: true })
  inputs!: JsonObject | null;

  @Column({ type: 'jsonb', nullable: true })
  outputs!: JsonObject | null;

  @Column({ type: 'jsonb', nullable: true })
  metadata!: JsonObject | null;

  @Column({ name: 'created_by', type: 'text', nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, nullable: true })
  updatedAt!: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', precision: 3, nullable: true })
  completedAt!: Date | null;
}
