import { describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { WritePipeline } from './write-pipeline.js';

const alice = { accountId: 'acme', sub: 'alice', evaluatorId: null };

/** A DataSource whose one connection records what it was asked, and fails COMMIT on demand. */
function database(commitFails: boolean) {
  const calls: string[] = [];
  const runner = {
    isTransactionActive: false,
    manager: {},
    connect: () => Promise.resolve(),
    startTransaction: () => {
      calls.push('BEGIN');
      runner.isTransactionActive = true;
      return Promise.resolve();
    },
    query: () => {
      calls.push('query');
      return Promise.resolve([]);
    },
    commitTransaction: () => {
      calls.push('COMMIT');
      if (commitFails) return Promise.reject(new Error('deadlock detected'));
      runner.isTransactionActive = false;
      return Promise.resolve();
    },
    rollbackTransaction: () => {
      calls.push('ROLLBACK');
      runner.isTransactionActive = false;
      return Promise.resolve();
    },
    release: () => Promise.resolve(),
  };
  const db = { createQueryRunner: () => runner } as unknown as DataSource;
  return { db, calls };
}

describe('WritePipeline after commit', () => {
  it('runs what a write asked for once it has committed', async () => {
    const { db, calls } = database(false);
    const pipeline = new WritePipeline(db, { auth: { secret: 'x', accountClaim: 'account_id' } });
    await pipeline.run(alice, (w) => {
      w.afterCommit(() => calls.push('counted'));
      return Promise.resolve();
    });
    expect(calls).toEqual(['BEGIN', 'COMMIT', 'counted']);
  });

  it('never runs it when the commit fails', async () => {
    const { db, calls } = database(true);
    const pipeline = new WritePipeline(db, { auth: { secret: 'x', accountClaim: 'account_id' } });
    await expect(
      pipeline.run(alice, (w) => {
        w.afterCommit(() => calls.push('counted'));
        return Promise.resolve();
      }),
    ).rejects.toThrow('deadlock detected');
    expect(calls).toEqual(['BEGIN', 'COMMIT', 'ROLLBACK']);
  });

  it('never runs it when the change fails', async () => {
    const { db, calls } = database(false);
    const pipeline = new WritePipeline(db, { auth: { secret: 'x', accountClaim: 'account_id' } });
    await expect(
      pipeline.run(alice, (w) => {
        w.afterCommit(() => calls.push('counted'));
        return Promise.reject(new Error('refused'));
      }),
    ).rejects.toThrow('refused');
    expect(calls).toEqual(['BEGIN', 'ROLLBACK']);
  });
});
