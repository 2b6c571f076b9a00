import { Logger } from '@aws-lambda-powertools/logger';
import { Redactor } from './redact.js';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/** Powertools' level numbers: a line is written when its level is at least the logger's. */
const LEVEL = { DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20 } as const;

/**
 * The one logger of the engine: structured (Powertools), one context object per step,
 * and every string passes through the invocation's redactor before it is written.
 *
 * A line below the level costs a comparison: nothing is redacted or built for it. A child's
 * Powertools logger is made when the child first writes a line: every account gets a child,
 * and at the usual levels most write none.
 */
export class Log {
  readonly redactor: Redactor;
  /** The logger's level when this Log was made; a child has its parent's. */
  readonly #level: number;
  readonly #make: () => Logger;
  #logger: Logger | undefined;

  /** `child` is how child() makes one: its parent's level, and how to make its Powertools logger when it first writes. */
  constructor(options: { logger?: Logger; redactor?: Redactor; level?: LogLevel; service?: string } = {}, child?: { level: number; make: () => Logger }) {
    this.redactor = options.redactor ?? new Redactor();
    if (child) {
      this.#level = child.level;
      this.#make = child.make;
      return;
    }
    const logger =
      options.logger ??
      new Logger({
        serviceName: options.service ?? 'rpr',
        logLevel: options.level ?? (process.env.RPR_LOG_LEVEL as LogLevel | undefined) ?? 'INFO',
      });
    this.#logger = logger;
    this.#level = logger.level;
    this.#make = () => logger;
  }

  /** A logger for one step: its context keys on every line, its secrets redacted. */
  child(context: Record<string, unknown>, redactor: Redactor = this.redactor): Log {
    return new Log(
      { redactor },
      {
        level: this.#level,
        make: () => {
          const logger = this.#powertools().createChild();
          logger.appendKeys(redactor.redactDeep(context) as Record<string, string>);
          return logger;
        },
      },
    );
  }

  debug(message: string, attrs: Record<string, unknown> = {}): void {
    if (this.#level <= LEVEL.DEBUG) this.#powertools().debug(this.redactor.redact(message), this.redactor.redactDeep(attrs));
  }
  info(message: string, attrs: Record<string, unknown> = {}): void {
    if (this.#level <= LEVEL.INFO) this.#powertools().info(this.redactor.redact(message), this.redactor.redactDeep(attrs));
  }
  warn(message: string, attrs: Record<string, unknown> = {}): void {
    if (this.#level <= LEVEL.WARN) this.#powertools().warn(this.redactor.redact(message), this.redactor.redactDeep(attrs));
  }
  error(message: string, attrs: Record<string, unknown> = {}): void {
    if (this.#level <= LEVEL.ERROR) this.#powertools().error(this.redactor.redact(message), this.redactor.redactDeep(attrs));
  }

  #powertools(): Logger {
    return (this.#logger ??= this.#make());
  }
}
