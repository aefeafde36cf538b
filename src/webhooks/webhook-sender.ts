import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { forbiddenReason, guardedLookup, hostOf } from './address-guard.js';
import { retryAfterMs } from './retry-schedule.js';

/** The most of a receiver's answer that is read; the rest is dropped with the connection. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** How much of a failed answer's body is kept in the attempt's error. */
const ERROR_BODY_CHARS = 200;

export interface SendOutcome {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  /** The receiver's Retry-After (on 429 or 503), in milliseconds. */
  retryAfterMs?: number;
  /** The receiver answered 410 Gone: the endpoint is to be disabled. */
  gone: boolean;
}

export interface SenderOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  lookup?: LookupFunction;
}

/**
 * POSTs webhook bodies. Connections are kept alive per receiver; each new one resolves its
 * host through a lookup that refuses forbidden addresses (unless allowed), so that the
 * address checked is the one connected to. Redirects are never followed, and at most
 * MAX_RESPONSE_BYTES of an answer are read.
 */
export class WebhookSender {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 4 });
  private readonly https = new HttpsAgent({ keepAlive: true, maxSockets: 4 });
  private readonly lookup: LookupFunction | undefined;

  constructor(private readonly options: SenderOptions) {
    this.lookup = options.allowPrivate ? options.lookup : guardedLookup(options.lookup);
  }

  async send(url: string, headers: Record<string, string>, body: string): Promise<SendOutcome> {
    const started = performance.now();
    const done = (o: Omit<SendOutcome, 'latencyMs' | 'gone'> & { gone?: boolean }) => ({
      gone: false,
      ...o,
      latencyMs: Math.round(performance.now() - started),
    });
    const target = new URL(url);
    const host = hostOf(target);
    // A literal address never reaches the lookup: it is checked here.
    const literal = this.options.allowPrivate ? undefined : forbiddenReason(host);
    if (literal !== undefined && literal !== 'not an IP address') {
      return done({
        ok: false,
        statusCode: null,
        error: `${host} is a ${literal} address, where webhooks may not go (WEBHOOK_ALLOW_PRIVATE is false)`,
      });
    }
    try {
      const { statusCode, headers: answer, text } = await this.post(target, headers, body);
      if (statusCode >= 200 && statusCode < 300) return done({ ok: true, statusCode, error: null });
      const location = answer.location;
      const error =
        statusCode >= 300 && statusCode < 400
          ? `HTTP ${statusCode}: a redirect${location ? ` to ${String(location).slice(0, 200)}` : ''}, not followed`
          : `HTTP ${statusCode}${text ? `: ${text.slice(0, ERROR_BODY_CHARS)}` : ''}`;
      const retryAfter =
        statusCode === 429 || statusCode === 503 ? retryAfterMs(answer['retry-after']) : undefined;
      return done({
        ok: false,
        statusCode,
        error,
        retryAfterMs: retryAfter,
        gone: statusCode === 410,
      });
    } catch (err) {
      return done({ ok: false, statusCode: null, error: describe(err, this.options.timeoutMs) });
    }
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }

  private post(
    target: URL,
    headers: Record<string, string>,
    body: string,
  ): Promise<{ statusCode: number; headers: IncomingMessage['headers']; text: string }> {
    const secure = target.protocol === 'https:';
    const request = secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(target, {
        method: 'POST',
        agent: secure ? this.https : this.http,
        lookup: this.lookup,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'Assay-Webhooks/1',
        },
      });
      const timer = setTimeout(
        () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT_WEBHOOK' })),
        this.options.timeoutMs,
      );
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          clearTimeout(timer);
          resolve({
            statusCode: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        };
        res.on('data', (chunk: Buffer) => {
          if (size >= MAX_RESPONSE_BYTES) return;
          chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - size));
          size += chunk.length;
          if (size >= MAX_RESPONSE_BYTES) {
            // The rest is not read: the connection goes, the answer stands.
            res.destroy();
            finish();
          }
        });
        res.once('end', finish);
        res.once('error', finish);
        res.once('close', finish);
      });
      req.end(body);
    });
  }
}

/** What went wrong, in a sentence for the deliveries list. */
function describe(err: unknown, timeoutMs: number): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ETIMEDOUT_WEBHOOK') return `no answer within ${timeoutMs} ms`;
  if (e.code === 'EWEBHOOKREFUSED') return e.message;
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  if (e.code === 'ENOTFOUND')
    return `host not found (${(e as { hostname?: string }).hostname ?? ''})`;
  return e.code ? `${e.code}: ${e.message}` : String(e.message ?? err);
}
