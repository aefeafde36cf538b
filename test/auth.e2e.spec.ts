import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { bearer, DATABASES, startApp, TEST_SECRET, type TestApp, token } from './support/app.js';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe.each(DATABASES)('auth on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  const refused = async (headers: Record<string, string>, message: RegExp) => {
    const res = await t.http.get('/v1/runs').set(headers);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toEqual({
      error: expect.stringMatching(message),
      code: 'unauthorized',
      request_id: expect.any(String),
    });
  };

  it('accepts a valid token', async () => {
    expect((await t.http.get('/v1/runs').set(bearer())).status).toBe(200);
  });

  it('refuses a missing token', () => refused({}, /Authorization: Bearer/));
  it('refuses a non-bearer scheme', () =>
    refused({ Authorization: `Basic ${token()}` }, /Authorization: Bearer/));
  it('refuses a malformed token', () =>
    refused({ Authorization: 'Bearer not.a.jwt' }, /not a well-formed JWT/));
  it('refuses an expired token', () =>
    refused(
      bearer(token({ extra: { exp: Math.floor(Date.now() / 1000) - 10 }, expiresIn: null })),
      /expired/,
    ));
  it('stops accepting a token it has already let through once the token expires', async () => {
    // exp falls on a whole second: at least a second of life left, at most two.
    const exp = Math.floor(Date.now() / 1000) + 2;
    const shortLived = bearer(token({ extra: { exp }, expiresIn: null }));
    expect((await t.http.get('/v1/runs').set(shortLived)).status).toBe(200);
    expect((await t.http.get('/v1/runs').set(shortLived)).status).toBe(200);
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    await refused(shortLived, /expired/);
  });
  it('refuses a token signed with another secret', () =>
    refused(bearer(token({ secret: 'another-secret-that-is-at-least-32-bytes' })), /signature/));
  it('refuses alg none', () =>
    refused(
      bearer(
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'a', account_id: 'acme', exp: 9999999999 })}.`,
      ),
      /refused/,
    ));
  it('refuses an algorithm other than the pinned one, even with the right secret', () =>
    refused(bearer(token({ algorithm: 'HS512' })), /algorithm/));
  it('refuses an RS256 token while HS256 is configured', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs = jwt.sign({ sub: 'a', account_id: 'acme' }, privateKey, {
      algorithm: 'RS256',
      expiresIn: '1h',
    });
    return refused(bearer(rs), /algorithm/);
  });
  it('refuses a token without the account claim', () =>
    refused(bearer(token({ account: null })), /account_id claim/));
  it('refuses a token without sub', () => refused(bearer(token({ sub: null })), /sub claim/));
  it('refuses a token without exp', () => refused(bearer(token({ expiresIn: null })), /exp/));
  it('refuses an evaluator_id that is not a UUID', () =>
    refused(bearer(token({ extra: { evaluator_id: 'judge-1' } })), /evaluator_id/));

  it('leaves the health probes open', async () => {
    expect((await t.http.get('/health/live')).status).toBe(200);
    const ready = await t.http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
  });

  it('guards every /v1 route', async () => {
    const id = '7d6f6b2e-5b2a-4d0e-9a39-1f8f9c7d0a11';
    const routes: [string, string][] = [
      ['post', '/v1/runs'],
      ['get', '/v1/runs'],
      ['get', `/v1/run/${id}`],
      ['patch', `/v1/run/${id}`],
      ['delete', `/v1/run/${id}`],
      ['post', '/v1/evaluation-labels'],
      ['get', '/v1/evaluation-labels'],
      ['get', `/v1/evaluation-label/${id}`],
      ['patch', `/v1/evaluation-label/${id}`],
      ['delete', `/v1/evaluation-label/${id}`],
      ['post', `/v1/run/${id}/evaluations`],
      ['get', `/v1/run/${id}/evaluations`],
      ['get', `/v1/run/${id}/evaluation/${id}`],
      ['put', `/v1/run/${id}/evaluation/${id}`],
      ['delete', `/v1/run/${id}/evaluation/${id}`],
      ['get', `/v1/run/${id}/evaluation/${id}/history`],
    ];
    for (const [method, path] of routes) {
      const res = await (
        t.http as unknown as Record<
          string,
          (p: string) => { send(b: object): Promise<{ status: number }> }
        >
      )
        [method](path)
        .send({});
      expect([method, path, res.status]).toEqual([method, path, 401]);
    }
  });
});

// Each describe has its own app: PGlite is one in-process database, so apps take turns.
describe.each(DATABASES)('auth settings on $name', (db) => {
  it('honours JWT_ACCOUNT_CLAIM, JWT_ISSUER and JWT_AUDIENCE', async () => {
    const other = await startApp(db, {
      JWT_ACCOUNT_CLAIM: 'tenant',
      JWT_ISSUER: 'https://id.example',
      JWT_AUDIENCE: 'assay',
    });
    try {
      const sign = (claims: object, opts: jwt.SignOptions) =>
        jwt.sign({ sub: 'a', ...claims }, TEST_SECRET, { expiresIn: '1h', ...opts });
      const good = sign({ tenant: 'acme' }, { issuer: 'https://id.example', audience: 'assay' });
      expect((await other.http.get('/v1/runs').set(bearer(good))).status).toBe(200);
      const wrongClaim = sign(
        { account_id: 'acme' },
        { issuer: 'https://id.example', audience: 'assay' },
      );
      expect((await other.http.get('/v1/runs').set(bearer(wrongClaim))).body.error).toMatch(
        /tenant claim/,
      );
      const wrongIssuer = sign(
        { tenant: 'acme' },
        { issuer: 'https://evil.example', audience: 'assay' },
      );
      expect((await other.http.get('/v1/runs').set(bearer(wrongIssuer))).status).toBe(401);
      const wrongAudience = sign(
        { tenant: 'acme' },
        { issuer: 'https://id.example', audience: 'other' },
      );
      expect((await other.http.get('/v1/runs').set(bearer(wrongAudience))).status).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe.each(DATABASES)('auth with a JWKS on $name', (db) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rotated = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let keys: object[] = [];
  let server: Server;
  let t: TestApp;

  const jwk = (key: KeyObject, kid: string, alg: string) => ({
    ...key.export({ format: 'jwk' }),
    kid,
    alg,
    use: 'sig',
  });

  beforeAll(async () => {
    keys = [jwk(rsa.publicKey, 'rsa-1', 'RS256'), jwk(ec.publicKey, 'ec-1', 'ES256')];
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    t = await startApp(db, { JWT_SECRET: '', JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` });
  });
  afterAll(async () => {
    await t.close();
    server.close();
  });

  const sign = (key: KeyObject, kid: string, algorithm: jwt.Algorithm) =>
    jwt.sign({ sub: 'a', account_id: 'acme' }, key, { algorithm, keyid: kid, expiresIn: '1h' });

  it('accepts RS256 and ES256 tokens signed by published keys', async () => {
    expect(
      (await t.http.get('/v1/runs').set(bearer(sign(rsa.privateKey, 'rsa-1', 'RS256')))).status,
    ).toBe(200);
    expect(
      (await t.http.get('/v1/runs').set(bearer(sign(ec.privateKey, 'ec-1', 'ES256')))).status,
    ).toBe(200);
  });

  it('refuses an HS256 token and a key the provider does not publish', async () => {
    expect((await t.http.get('/v1/runs').set(bearer(token()))).status).toBe(401);
    const unknown = await t.http
      .get('/v1/runs')
      .set(bearer(sign(rotated.privateKey, 'rsa-2', 'RS256')));
    expect(unknown.status).toBe(401);
  });

  it('picks up a rotated key by its kid', async () => {
    keys = [...keys, jwk(rotated.publicKey, 'rsa-3', 'RS256')];
    const res = await t.http
      .get('/v1/runs')
      .set(bearer(sign(rotated.privateKey, 'rsa-3', 'RS256')));
    expect(res.status).toBe(200);
  });
});
