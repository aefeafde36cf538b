import { describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { Statement } from './statement.js';
import { type HttpWrite, requestPrincipal, WritePipeline } from './write-pipeline.js';
import type { WriteScope } from './write-scope.js';

const alice = { accountId: 'acme', sub: 'alice', evaluatorId: null };

/**
 * A DataSource whose one connection records what it was asked, and fails COMMIT, a query or
 * the connecting on demand.
 */
function database(commitFails: boolean, fails: { query?: Error; connect?: Error } = {}) {
  const calls: string[] = [];
  const runner = {
    isTransactionActive: false,
    manager: {},
    connect: () => (fails.connect ? Promise.reject(fails.connect) : Promise.resolve()),
    startTransaction: () => {
      calls.push('BEGIN');
      runner.isTransactionActive = true;
      return Promise.resolve();
    },
    query: () => {
      calls.push('query');
      return fails.query ? Promise.reject(fails.query) : Promise.resolve([]);
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

describe('WritePipeline, a write made at once', () => {
  const pipeline = (db: DataSource) =>
    new WritePipeline(db, { auth: { secret: 'x', accountClaim: 'account_id' } });
  const insert = (w: WriteScope) =>
    w.lastly(new Statement().step('created', 'INSERT INTO runs DEFAULT VALUES'));

  it('is its one statement, with no BEGIN or COMMIT', async () => {
    const { db, calls } = database(false);
    await pipeline(db).runAtOnce(alice, insert);
    expect(calls).toEqual(['query']);
  });

  it('sends a change alone as its own commit, in a transaction when it stores a key', async () => {
    const { db, calls } = database(false);
    const p = pipeline(db);
    const claim = (w: WriteScope) => w.sendAlone('SELECT claimed()', []);
    await p.runAtOnce(alice, claim);
    expect(calls).toEqual(['query']);
    calls.length = 0;
    const principal = requestPrincipal(alice);
    const keyed: HttpWrite = {
      principal,
      method: 'POST',
      route: '/v1/claims',
      params: {},
      body: {},
      headers: { 'idempotency-key': 'k-1' },
      status: 200,
      etagged: false,
    };
    await p.request(keyed, () => p.runAtOnce(principal, claim));
    // The claim, then the key with its answer, committed together.
    expect(calls).toEqual(['BEGIN', 'query', 'query', 'COMMIT']);
  });

  it('refuses to add to a change sent alone, which has committed', async () => {
    const { db } = database(false);
    await expect(
      pipeline(db).runAtOnce(alice, async (w) => {
        await w.sendAlone('SELECT claimed()', []);
        await insert(w);
      }),
    ).rejects.toThrow('A change sent alone has committed');
  });

  it('says the outcome is unknown when the connection breaks during its statement', async () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const { db } = database(false, { query: reset });
    await expect(pipeline(db).runAtOnce(alice, insert)).rejects.toMatchObject({
      code: 'outcome_unknown',
      headers: { 'Retry-After': '1' },
    });
  });

  it('says what happened when no connection could be had: nothing was sent', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const { db, calls } = database(false, { connect: refused });
    await expect(pipeline(db).runAtOnce(alice, insert)).rejects.toBe(refused);
    expect(calls).toEqual([]);
  });
});

describe('WritePipeline, which write a change joins', () => {
  const pipeline = (db: DataSource) =>
    new WritePipeline(db, { auth: { secret: 'x', accountClaim: 'account_id' } });
  const write = (principal: Principal): HttpWrite => ({
    principal,
    method: 'POST',
    route: '/v1/runs',
    params: {},
    body: {},
    headers: {},
    status: 201,
    etagged: false,
  });
  const change = () => Promise.resolve();

  it("joins a request's write when made with the request's principal", async () => {
    const { db, calls } = database(false);
    const p = pipeline(db);
    const principal = requestPrincipal(alice);
    await p.request(write(principal), async () => {
      await p.run(principal, change);
      await p.run({ ...principal }, change); // a copy made on the way carries the write too
      calls.push('route done');
    });
    expect(calls).toEqual(['BEGIN', 'route done', 'COMMIT']);
  });

  it('makes writes of their own for another principal, and once the request has ended', async () => {
    const { db, calls } = database(false);
    const p = pipeline(db);
    const principal = requestPrincipal(alice);
    await p.request(write(principal), async () => {
      await p.run(requestPrincipal(alice), change);
      calls.push('route done');
    });
    // Committed before the route ended: a write of its own.
    expect(calls).toEqual(['BEGIN', 'COMMIT', 'route done']);
    await p.run(principal, change);
    expect(calls).toEqual(['BEGIN', 'COMMIT', 'route done', 'BEGIN', 'COMMIT']);
  });

  it("joins the write of a host app's own code by where it runs, not by its principal", async () => {
    const { db, calls } = database(false);
    const p = pipeline(db);
    await p.run(alice, async () => {
      await p.run({ ...alice }, change);
      calls.push('change done');
    });
    expect(calls).toEqual(['BEGIN', 'change done', 'COMMIT']);
  });
});
