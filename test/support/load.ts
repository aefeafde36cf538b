import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface Sent {
  /** What the caller labelled the request with (the id it creates, say). */
  key: string;
  /** 0 when no answer came: `error` says why. */
  status: number;
  error?: string;
  body?: { id?: string; code?: string };
  connectionClose: boolean;
  retryAfter?: string;
  startedAt: number;
  ms: number;
}

export interface LoadRequest {
  key: string;
  method: string;
  path: string;
  body?: unknown;
}

function send(url: string, agent: Agent, headers: Record<string, string>, r: LoadRequest) {
  const startedAt = Date.now();
  const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
  return new Promise<Sent>((resolve) => {
    const req = request(
      `${url}${r.path}`,
      {
        method: r.method,
        agent,
        headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
        timeout: 60_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let body: Sent['body'];
          try {
            body = text ? (JSON.parse(text) as Sent['body']) : undefined;
          } catch {
            body = undefined;
          }
          resolve({
            key: r.key,
            status: res.statusCode ?? 0,
            body,
            connectionClose: res.headers.connection === 'close',
            retryAfter: res.headers['retry-after'],
            startedAt,
            ms: Date.now() - startedAt,
          });
        });
        res.on('error', (err) => resolve(failed(err)));
      },
    );
    const failed = (err: Error & { code?: string }): Sent => ({
      key: r.key,
      status: 0,
      error: err.code ?? err.message,
      connectionClose: false,
      startedAt,
      ms: Date.now() - startedAt,
    });
    req.on('error', (err) => resolve(failed(err)));
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.end(payload);
  });
}

/**
 * Clients on keep-alive connections, each sending its next request as soon as the last is
 * answered, until stop() or until the server refuses connections (it has gone).
 */
export function keepAliveLoad(
  url: string,
  options: {
    connections: number;
    headers: Record<string, string>;
    next: (client: number, n: number) => LoadRequest;
  },
): { stop(): void; done: Promise<Sent[]> } {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  let stopped = false;
  const sent: Sent[] = [];
  const loops = Array.from({ length: options.connections }, async (_, client) => {
    for (let n = 0; !stopped; n++) {
      const answer = await send(url, agent, options.headers, options.next(client, n));
      sent.push(answer);
      if (answer.error === 'ECONNREFUSED') break;
    }
  });
  const done = Promise.all(loops).then(() => {
    agent.destroy();
    return sent;
  });
  return { stop: () => (stopped = true), done };
}

export interface IdleConnection {
  socket: Socket;
  /** Resolves with how the server ended it: 'end' is a clean close, 'error' a reset. */
  closed: Promise<'end' | 'error'>;
}

/** Keep-alive connections that made one request and then sit idle. */
export async function idleConnections(url: string, count: number): Promise<IdleConnection[]> {
  const { hostname, port } = new URL(url);
  return Promise.all(
    Array.from({ length: count }, async () => {
      const socket = connect(Number(port), hostname);
      const closed = new Promise<'end' | 'error'>((resolve) => {
        socket.once('end', () => resolve('end'));
        socket.once('error', () => resolve('error'));
      });
      await new Promise<void>((resolve) => {
        socket.once('data', () => resolve());
        socket.write(
          `GET /health/live HTTP/1.1\r\nHost: ${hostname}\r\nConnection: keep-alive\r\n\r\n`,
        );
      });
      return { socket, closed };
    }),
  );
}
