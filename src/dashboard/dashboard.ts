import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';

/**
 * The built dashboard (dist/dashboard, made by dashboard/build.mjs): beside the compiled
 * server (dist/src/dashboard), or, when the server runs from its sources, in dist/.
 */
const ASSETS = fileURLToPath(
  new URL(
    import.meta.url.includes('/dist/src/') ? '../../dashboard/' : '../../dist/dashboard/',
    import.meta.url,
  ),
);

/** The dashboard's own views: each is the one page, which reads its view from the URL. */
const VIEWS = ['', 'compare', 'agreement', 'evaluators', 'label/:id', 'run/:id'];

/**
 * Its own scripts and nothing else: no inline script, no other origin, no framing. Inline
 * styles are allowed, as the charts carry their own (a chart's style cannot run code).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function secure(reply: { header(name: string, value: string): unknown }): void {
  reply.header('content-security-policy', DASHBOARD_CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
}

/**
 * Serves the dashboard at /dashboard: its assets (sent gzipped when the browser takes it),
 * and its one page at every view's address, so that a shared link or a reload opens it.
 */
export function setupDashboard(app: NestFastifyApplication): void {
  let page: Buffer;
  try {
    page = readFileSync(`${ASSETS}index.html`);
  } catch {
    throw new Error(
      `The dashboard is not built (${ASSETS}index.html is missing): run \`npm run build\`, ` +
        'or set DASHBOARD=false to serve none.',
    );
  }
  const fastify = app.getHttpAdapter().getInstance();
  void fastify.register(fastifyStatic, {
    root: ASSETS,
    prefix: '/dashboard/',
    decorateReply: false,
    wildcard: false,
    index: false,
    preCompressed: true,
    cacheControl: true,
    maxAge: 0,
    setHeaders: secure,
  });
  const sendPage = (_: unknown, reply: FastifyReply) => {
    secure(reply);
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(page);
  };
  fastify.get('/dashboard', sendPage);
  for (const view of VIEWS) fastify.get(`/dashboard/${view}`, sendPage);
}
