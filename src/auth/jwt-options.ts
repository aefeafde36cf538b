import { createSecretKey } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { passportJwtSecret } from 'jwks-rsa';
import type { Algorithm } from 'jsonwebtoken';
import type { Settings } from '../config/settings.js';
import { IN_MEMORY } from '../database/data-source-options.js';
import { devSecret } from './dev-secret.js';

/** How tokens are verified: everything the JWT strategy needs, and nothing else. */
export interface JwtVerification {
  /** HS256 secret; or */
  secret?: string;
  /** the JWKS of an identity provider (RS256/ES256), keys cached and picked by `kid`. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** The claim that carries the account id. */
  accountClaim: string;
}

export const JWT_VERIFICATION = Symbol('JWT_VERIFICATION');

/** How long keys fetched from a JWKS are kept: a withdrawn key is refused within this. */
export const JWKS_CACHE_MS = 10 * 60 * 1000;

export function jwtVerificationFromSettings(settings: Settings): JwtVerification {
  const common = {
    issuer: settings.JWT_ISSUER,
    audience: settings.JWT_AUDIENCE,
    accountClaim: settings.JWT_ACCOUNT_CLAIM,
  };
  if (settings.JWT_JWKS_URL) return { ...common, jwksUrl: settings.JWT_JWKS_URL };
  if (settings.JWT_SECRET) return { ...common, secret: settings.JWT_SECRET };
  if (settings.DATA_DIR === IN_MEMORY) {
    throw new Error(
      'Set JWT_SECRET when DATA_DIR is memory://: there is nowhere to keep a dev secret.',
    );
  }
  new Logger('Auth').warn(
    `No JWT settings: verifying HS256 tokens with a development secret kept in ${settings.DATA_DIR}. ` +
      'Mint one with `npm run token -- --account A --sub U`. Set JWT_SECRET or JWT_JWKS_URL for real use.',
  );
  return { ...common, secret: devSecret(settings.DATA_DIR) };
}

/** passport-jwt's key and algorithm options; the algorithms are pinned per key kind. */
export function keyOptions(v: JwtVerification) {
  if (v.jwksUrl) {
    return {
      secretOrKeyProvider: passportJwtSecret({
        jwksUri: v.jwksUrl,
        cache: true,
        cacheMaxAge: JWKS_CACHE_MS,
        rateLimit: true,
        jwksRequestsPerMinute: 10,
      }),
      algorithms: ['RS256', 'ES256'] as Algorithm[],
    };
  }
  if (!v.secret) throw new Error('JWT verification needs a secret or a JWKS URL.');
  // Made once: given a string, jsonwebtoken first tries it as a public key and throws, on
  // every request. It accepts a KeyObject as it is; passport-jwt's types only lack it.
  const key = createSecretKey(Buffer.from(v.secret));
  return { secretOrKey: key as unknown as Buffer, algorithms: ['HS256'] as Algorithm[] };
}
