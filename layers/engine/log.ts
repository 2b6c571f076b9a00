import { Logger } from '@aws-lambda-powertools/logger';
import { Redactor } from './redact.js';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/**
 * The one logger of the engine: structured (Powertools), one context object per step,
 * and every string passes through the invocation's redactor before it is written.
 */
export class Log {
  readonly #logger: Logger;
  readonly redactor: Redactor;

  constructor(options: { logger?: Logger; redactor?: Redactor; level?: LogLevel; service?: string } = {}) {
    this.#logger =
      options.logger ??
      new Logger({
        serviceName: options.service ?? 'rpr',
        logLevel: options.level ?? (process.env.RPR_LOG_LEVEL as LogLevel | undefined) ?? 'INFO',
      });
    this.redactor = options.redactor ?? new Redactor();
  }

  /** A logger for one step: its context keys on every line, its secrets redacted. */
  child(context: Record<string, unknown>, redactor: Redactor = this.redactor): Log {
    const logger = this.#logger.createChild();
    logger.appendKeys(redactor.redactDeep(context) as Record<string, string>);
    return new Log({ logger, redactor });
  }

  debug(message: string, attrs: Record<string, unknown> = {}): void {
    this.#logger.debug(this.redactor.redact(message), this.redactor.redactDeep(attrs));
  }
  info(message: string, attrs: Record<string, unknown> = {}): void {
    this.#logger.info(this.redactor.redact(message), this.redactor.redactDeep(attrs));
  }
  warn(message: string, attrs: Record<string, unknown> = {}): void {
    this.#logger.warn(this.redactor.redact(message), this.redactor.redactDeep(attrs));
  }
  error(message: string, attrs: Record<string, unknown> = {}): void {
    this.#logger.error(this.redactor.redact(message), this.redactor.redactDeep(attrs));
  }
}
