import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A request's Idempotency-Key with the answer it got, kept until `expires_at`. */
@Entity({ name: 'idempotency_keys' })
@Index('IDX_idempotency_keys_expires', ['expiresAt'])
export class IdempotencyKeyEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  key!: string;

  /** sha256 of method, route, path parameters and canonical body. */
  @Column({ type: 'char', length: 64 })
  fingerprint!: string;

  @Column({ type: 'smallint', nullable: true })
  status!: number | null;

  @Column({ type: 'jsonb', nullable: true })
  headers!: Record<string, string> | null;

  /** The answer's JSON text exactly as sent. */
  @Column({ type: 'text', nullable: true })
  body!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz', precision: 3 })
  expiresAt!: Date;
}
