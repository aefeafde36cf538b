import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type ErrorCode } from './api-error.js';
import { type ErrorResponse, toErrorResponse } from './error-response.js';

/** Sends an error answer in Assay's body, wherever the error was raised. */
export function sendError(reply: FastifyReply, { status, body, headers }: ErrorResponse): void {
  void reply.status(status).headers(headers).send(body);
}

/**
 * Fastify's router refuses a URL before any route, hook or Nest filter sees the request
 * (bad percent-encoding: 400; a path parameter over maxParamLength: 414): the same body.
 */
export function frameworkErrors(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  // No hook runs for these answers: the request id header is set here.
  reply.header('x-request-id', request.id);
  sendError(reply, toErrorResponse(error, String(request.id)));
}

/** What Node's HTTP parser refuses, by its error code, with llhttp's reason when it gives one. */
function clientErrorOf(err: Error & { code?: string; reason?: unknown }): [ErrorCode, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return ['headers_too_large', 'The request headers are too large.'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return ['request_timeout', 'The request took too long to arrive.'];
    default:
      return [
        'malformed_request',
        typeof err.reason === 'string'
          ? `The request is not well-formed HTTP: ${err.reason}.`
          : 'The request is not well-formed HTTP.',
      ];
  }
}

/**
 * Node's HTTP parser refuses a request (a bad request line, a bad header, conflicting
 * Content-Length and Transfer-Encoding, headers over the size limit) before Fastify has a
 * request at all: the answer is written to the socket here, in the same error body, and
 * the connection closed, as Node itself does.
 */
export function clientErrorHandler(
  err: Error & { code?: string; reason?: unknown },
  socket: Duplex,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message] = clientErrorOf(err);
  const { status, body } = toErrorResponse(new ApiError(code, message), randomUUID());
  // The parser may fail in a body after the app has answered the request's headers (a GET
  // with a bad Transfer-Encoding): a second answer on that connection would be garbage.
  const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !answering?.headersSent) {
    const json = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(json)}\r\n` +
        `x-request-id: ${body.request_id}\r\nConnection: close\r\n\r\n${json}`,
    );
  }
  socket.destroy();
}
