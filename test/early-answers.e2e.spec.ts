import { execFile } from 'node:child_process';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DRAIN_LIMIT } from '../src/http/drain.js';
import { DATABASES, startApp, type TestApp, token } from './support/app.js';
import { rowCounts } from './support/row-counts.js';
import { ensureBuilt } from './support/server.js';

const run = promisify(execFile);

describe.each(DATABASES)(
  'an answer sent before the body has arrived reaches the client on $name',
  (db) => {
    let t: TestApp;
    let url: string;
    let port: number;
    // The fixture's typed client is the built one.
    beforeAll(() => ensureBuilt(), 180_000);
    beforeAll(async () => {
      t = await startApp(db);
      await t.app.listen(0, '127.0.0.1');
      port = (t.app.getHttpServer().address() as AddressInfo).port;
      url = `http://127.0.0.1:${port}`;
    });
    afterAll(() => t.close());

    it("Node's fetch and the typed client, sending 3 MB, see the 413 (or 415), not EPIPE", async () => {
      const before = await rowCounts(t.dataSource);
      const { stdout } = await run(process.execPath, [
        'test/fixtures/large-body-client.mjs',
        url,
        token(),
        '8',
      ]);
      const outcomes = JSON.parse(stdout) as { kind: string }[];
      const expected: Record<string, object> = {
        fetch: { status: 413, code: 'payload_too_large' },
        // The size is refused before the route's guard runs.
        'fetch without a token': { status: 413, code: 'payload_too_large' },
        'fetch of text': { status: 415, code: 'unsupported_media_type' },
        'typed client': { status: 413, code: 'payload_too_large' },
      };
      expect(outcomes).toHaveLength(32);
      expect(outcomes).toEqual(outcomes.map(({ kind }) => ({ kind, ...expected[kind] })));
      const next = await fetch(`${url}/v1/runs`, {
        headers: { authorization: `Bearer ${token()}` },
      });
      expect(next.status).toBe(200);
      expect(await rowCounts(t.dataSource)).toEqual(before);
    });

    it('past DRAIN_LIMIT the connection is closed, after the answer', async () => {
      const declared = DRAIN_LIMIT * 4;
      const socket = net.connect(port, '127.0.0.1');
      let answer = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (answer += chunk));
      socket.on('error', () => {}); // the reset that ends the write loop below
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write(
        `POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `Authorization: Bearer ${token()}\r\nContent-Length: ${declared}\r\n\r\n`,
      );
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      let sent = 0;
      let open = true;
      void closed.then(() => (open = false));
      const started = Date.now();
      while (open && sent < declared && Date.now() - started < 20_000) {
        if (!socket.write(chunk)) {
          await Promise.race([new Promise((r) => socket.once('drain', r)), closed]);
        }
        sent += chunk.length;
      }
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toContain('"code":"payload_too_large"');
      // Closed once the limit was passed, long before the declared length was sent.
      expect(sent).toBeGreaterThan(DRAIN_LIMIT);
      expect(sent).toBeLessThan(declared);
    });
  },
);
