import { pino, type Logger as Pino } from 'pino';
import type { Logger } from '@blockyard/core';

/** The Logger port on pino: one JSON line per entry, fields first, message last. */
export class PinoLogger implements Logger {
  constructor(private readonly pino: Pino) {}

  static create(level: string, destination?: NodeJS.WritableStream): PinoLogger {
    const options = { level, base: { service: 'blockyard' }, timestamp: pino.stdTimeFunctions.isoTime };
    return new PinoLogger(destination ? pino(options, destination) : pino(options));
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.pino.debug(fields ?? {}, message);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.pino.info(fields ?? {}, message);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.pino.warn(fields ?? {}, message);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.pino.error(fields ?? {}, message);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new PinoLogger(this.pino.child(bindings));
  }
}
