import { randomBytes } from 'node:crypto';

/** A new Standard Webhooks secret: `whsec_` and 24 random bytes in base64. */
export const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

/**
 * The write, its failure (logged with the statement's parameters) masking any secret among
 * them: secrets are never logged.
 */
export async function hidingSecrets<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    const mask = (params: unknown) => {
      if (!Array.isArray(params)) return;
      params.forEach((p, i) => {
        if (typeof p === 'string' && p.startsWith('whsec_')) params[i] = 'whsec_…';
      });
    };
    const e = err as {
      parameters?: unknown;
      driverError?: { params?: unknown; parameters?: unknown };
    };
    mask(e.parameters);
    mask(e.driverError?.params);
    mask(e.driverError?.parameters);
    throw err;
  }
}
