import { describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { VerifiedTokens } from './verified-tokens.js';

const alice = { accountId: 'acme', sub: 'alice', evaluatorId: null };
const sign = (payload: object) => jwt.sign(payload, 's'.repeat(32));
const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

describe('VerifiedTokens', () => {
  it('gives back the principal of a remembered token, and only for that exact token', () => {
    const tokens = new VerifiedTokens();
    const t = sign({ sub: 'alice', exp: inSeconds(3600) });
    tokens.remember(t, alice);
    expect(tokens.get(t)).toEqual(alice);
    expect(tokens.get(`${t}x`)).toBeUndefined();
    expect(tokens.get(sign({ sub: 'alice', exp: inSeconds(3599) }))).toBeUndefined();
  });

  it('does not keep a token without exp, or one already expired', () => {
    const tokens = new VerifiedTokens();
    const noExp = sign({ sub: 'alice' });
    const expired = sign({ sub: 'alice', exp: inSeconds(-1) });
    tokens.remember(noExp, alice);
    tokens.remember(expired, alice);
    expect(tokens.get(noExp)).toBeUndefined();
    expect(tokens.get(expired)).toBeUndefined();
  });

  it('forgets a token when it expires', async () => {
    const tokens = new VerifiedTokens();
    const exp = inSeconds(2);
    const t = sign({ sub: 'alice', exp });
    tokens.remember(t, alice);
    expect(tokens.get(t)).toEqual(alice);
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 20));
    expect(tokens.get(t)).toBeUndefined();
  });
});
