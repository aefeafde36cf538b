import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * How many bytes of a request body still arriving after its answer (a 413, 401, 415…) are
 * read and thrown away before the connection is closed. Reading them is what lets a client
 * that is still sending see the answer rather than a reset connection; nothing is kept, so
 * they cost bandwidth, not memory. 16 MiB: 16 times the default BODY_LIMIT, so that a
 * client that overshoots it with a large batch or file still gets its 413.
 */
export const DRAIN_LIMIT = 16 * 1024 * 1024;

function drain(request: IncomingMessage): void {
  let read = 0;
  request.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > DRAIN_LIMIT) request.socket.destroy();
  });
  request.resume();
}

/**
 * For an onSend hook: an answer sent before its request's whole body arrived keeps the
 * connection open while the rest is read and discarded (up to DRAIN_LIMIT, then the
 * connection is closed). Fastify would close it at once after a body it refused, and a
 * client still writing would see EPIPE or a reset instead of the answer.
 */
export function drainUnreadBody(request: FastifyRequest, reply: FastifyReply): void {
  if (request.raw.complete) return;
  reply.removeHeader('connection');
  // Reading starts now, so that Node does not dump the body itself (unbounded) once the
  // answer has gone.
  drain(request.raw);
}
