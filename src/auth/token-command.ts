// `assay token --account A --sub U [--evaluator ID] [--ttl 1h]` (in a checkout, `npm run token
// -- …`): prints a bearer token that Assay accepts (JWT_SECRET, else the dev secret in DATA_DIR).
import { parseArgs } from 'node:util';
import { isUUID } from 'class-validator';
import jwt from 'jsonwebtoken';
import { loadSettings, SettingsError } from '../config/settings.js';
import { devSecret } from './dev-secret.js';

export const DEFAULT_TTL = '1h';
const USAGE = `usage: assay token --account ACCOUNT --sub USER [--evaluator UUID] [--ttl ${DEFAULT_TTL}]`;
const TTL = /^\d+[smhd]$/;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

export function tokenCommand(argv: string[]): void {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        account: { type: 'string' },
        sub: { type: 'string' },
        evaluator: { type: 'string' },
        ttl: { type: 'string', default: DEFAULT_TTL },
      },
    }).values;
  } catch (err) {
    fail((err as Error).message);
  }
  if (!args.account) fail('--account is required.');
  if (!args.sub) fail('--sub is required.');
  if (args.evaluator !== undefined && !isUUID(args.evaluator, 'all'))
    fail('--evaluator must be a UUID.');
  if (!TTL.test(args.ttl)) fail('--ttl must be a number with s, m, h or d, such as 30m or 1h.');

  let settings;
  try {
    settings = loadSettings(process.env);
  } catch (err) {
    if (err instanceof SettingsError) fail(err.message);
    throw err;
  }
  if (settings.JWT_JWKS_URL) {
    fail('JWT_JWKS_URL is set: tokens come from your identity provider, not from Assay.');
  }
  const secret = settings.JWT_SECRET ?? devSecret(settings.DATA_DIR);
  const claims: Record<string, string> = { [settings.JWT_ACCOUNT_CLAIM]: args.account };
  if (args.evaluator) claims.evaluator_id = args.evaluator;
  const token = jwt.sign(claims, secret, {
    algorithm: 'HS256',
    subject: args.sub,
    expiresIn: args.ttl as jwt.SignOptions['expiresIn'],
    ...(settings.JWT_ISSUER ? { issuer: settings.JWT_ISSUER } : {}),
    ...(settings.JWT_AUDIENCE ? { audience: settings.JWT_AUDIENCE } : {}),
  });
  console.log(token);
}
