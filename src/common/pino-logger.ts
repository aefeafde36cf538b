import type { LoggerService } from '@nestjs/common';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import type { Settings } from '../config/settings.js';

/** The one structured JSON logger of the service: its start-up, Fastify's and Nest's lines. */
export function createLogger(
  settings: Pick<Settings, 'LOG_LEVEL'>,
  destination?: pino.DestinationStream,
): FastifyBaseLogger {
  return pino({ level: settings.LOG_LEVEL, redact: ['req.headers.authorization'] }, destination);
}

/** Nest's own log lines, written through Fastify's pino logger as structured JSON. */
export class PinoLogger implements LoggerService {
  constructor(private readonly pino: FastifyBaseLogger) {}

  private write(
    level: 'info' | 'warn' | 'error' | 'debug' | 'trace',
    message: unknown,
    rest: unknown[],
  ) {
    const context = typeof rest[rest.length - 1] === 'string' ? rest[rest.length - 1] : undefined;
    // An error's message and stack are not enumerable: name them, or the line says nothing.
    if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ context, ...message }, typeof rest[0] === 'string' ? rest[0] : '');
    } else {
      this.pino[level]({ context }, String(message));
    }
  }

  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
}
