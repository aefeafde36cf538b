import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from '@jest/globals';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** When the whole request had arrived (performance.now() of this process). */
  at: number;
}

/** What the receiver does with a request: answer it, or leave it hanging. */
export type Behaviour = (received: Received, res: ServerResponse) => void;

export const answer =
  (status: number, headers: Record<string, string> = {}, body = ''): Behaviour =>
  (_r, res) => {
    res.writeHead(status, headers).end(body);
  };

/** Never answers: the connection is left open until the server closes. */
export const hang: Behaviour = () => undefined;

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** What it does with the next request (and those after, until changed). */
  behave(b: Behaviour): void;
  close(): Promise<void>;
}

const open = new Set<Server>();
afterAll(async () => {
  for (const server of open) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  open.clear();
});

/** A webhook receiver on 127.0.0.1 that keeps every request and answers 204 by default. */
export async function startReceiver(
  path = '/hook',
  port = 0,
  behaviour: Behaviour = answer(204),
): Promise<Receiver> {
  let current = behaviour;
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
      };
      received.push(r);
      current(r, res);
    });
  });
  open.add(server);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}${path}`,
    port: bound,
    received,
    behave: (b) => {
      current = b;
    },
    close: async () => {
      open.delete(server);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
