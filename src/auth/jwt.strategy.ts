import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { isUUID } from 'class-validator';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { ApiError } from '../common/api-error.js';
import { codePointLength, textProblem } from '../common/text.js';
import { JWT_VERIFICATION, type JwtVerification, keyOptions } from './jwt-options.js';
import type { Principal } from './principal.js';
import { VerifiedTokens } from './verified-tokens.js';

/** Named for Assay, so that a host app's own 'jwt' strategy is left alone. */
export const JWT_STRATEGY = 'assay-jwt';

/** Where the token is read from: the Authorization header's Bearer credentials. */
export const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

/** The account_id column's length. */
export const MAX_ACCOUNT_ID = 200;

const refuse = (why: string) => new ApiError('unauthorized', `The token was refused: ${why}.`);

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  /** Tokens this strategy has already let through (see JwtAuthGuard). */
  readonly verified = new VerifiedTokens();

  constructor(@Inject(JWT_VERIFICATION) private readonly verification: JwtVerification) {
    super({
      jwtFromRequest: bearerToken,
      ignoreExpiration: false,
      issuer: verification.issuer,
      audience: verification.audience,
      ...keyOptions(verification),
    });
  }

  /** Runs after the signature, exp, iss and aud checks; checks the claims Assay relies on. */
  validate(payload: Record<string, unknown>): Principal {
    const claim = this.verification.accountClaim;
    const accountId = payload[claim];
    const { sub, exp, evaluator_id: evaluatorId } = payload;
    if (typeof exp !== 'number') throw refuse('it has no exp (expiry) claim');
    if (typeof sub !== 'string' || sub === '') throw refuse('it has no sub claim');
    if (
      typeof accountId !== 'string' ||
      accountId === '' ||
      codePointLength(accountId) > MAX_ACCOUNT_ID
    ) {
      throw refuse(
        `it has no ${claim} claim naming the account (1 to ${MAX_ACCOUNT_ID} characters)`,
      );
    }
    for (const [name, value] of [
      ['sub', sub],
      [claim, accountId],
    ]) {
      const problem = textProblem(value);
      if (problem) throw refuse(`its ${name} claim ${problem}`);
    }
    if (
      evaluatorId !== undefined &&
      (typeof evaluatorId !== 'string' || !isUUID(evaluatorId, 'all'))
    ) {
      throw refuse('its evaluator_id claim is not a UUID');
    }
    // Stored in a uuid column, which answers in lower case: the principal says the same.
    return { accountId, sub, evaluatorId: evaluatorId?.toLowerCase() ?? null };
  }
}
