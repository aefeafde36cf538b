// `assay/client`: a typed client of Assay's HTTP API, for TypeScript and JavaScript callers.
// The types come from the committed OpenAPI document (schema.ts, made by `npm run openapi`);
// the requests are made by openapi-fetch, with the platform's fetch.
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './schema.js';

export type { components, operations, paths } from './schema.js';
export type { Middleware } from 'openapi-fetch';

/** Bodies are typed as JSON, what the client parses by default (exports: parseAs 'text'). */
export type AssayClient = Client<paths, 'application/json'>;

export interface AssayClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where Assay serves, e.g. `https://assay.example.com`. */
  baseUrl: string;
  /** The bearer token, or a function that returns the current one (called per request). */
  token?: string | (() => string | Promise<string>);
}

/**
 * A client with one typed method per HTTP verb: `client.GET('/v1/run/{id}/evaluations',
 * { params: { path: { id } } })` answers `{ data, error, response }`, where `data` has the
 * success schema and `error` Assay's error body.
 */
export function createAssayClient({ token, ...options }: AssayClientOptions): AssayClient {
  const client = createClient<paths, 'application/json'>(options);
  if (token !== undefined) {
    client.use({
      async onRequest({ request }) {
        const current = typeof token === 'function' ? await token() : token;
        request.headers.set('Authorization', `Bearer ${current}`);
      },
    });
  }
  return client;
}
