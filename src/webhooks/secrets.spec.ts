import { describe, expect, it } from '@jest/globals';
import { hidingSecrets, newSecret } from './secrets.js';

describe('webhook secrets', () => {
  it('are whsec_ and 24 random bytes in base64', () => {
    const [a, b] = [newSecret(), newSecret()];
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(24);
    expect(a).not.toBe(b);
  });

  it('are masked in the parameters a failed statement is logged with', async () => {
    const secret = newSecret();
    const failure = Object.assign(new Error('insert failed'), {
      parameters: ['acme', secret, 3],
      driverError: { params: ['acme', secret] },
    });
    const caught = await hidingSecrets(Promise.reject(failure)).catch((e: unknown) => e);
    expect(caught).toBe(failure);
    expect(JSON.stringify(caught)).not.toContain(secret);
    expect(failure.parameters).toEqual(['acme', 'whsec_…', 3]);
    await expect(hidingSecrets(Promise.resolve(7))).resolves.toBe(7);
  });
});
