import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { Log, type LogLevel } from '../layers/engine/log.js';

/**
 * Powertools' logger writing every line to the CLI's standard error: its standard output is the
 * command's answer (a table, or JSON with --json), which log lines must never interleave. Its
 * children (one per step) write to the same place.
 */
class StderrLogger extends Logger {
  constructor(
    private readonly write: (text: string) => void,
    options?: ConstructorOptions,
  ) {
    super(options);
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new StderrLogger(this.write, options);
  }

  protected override printLog(_level: number, log: LogItem): void {
    log.prepareForPrint();
    this.write(`${JSON.stringify(log.getAttributes(), this.getJsonReplacer())}\n`);
  }
}

/** The CLI's engine log: JSON lines at `level` to `stderr`. */
export function cliLog(level: LogLevel, stderr: (text: string) => void, service = 'rpr'): Log {
  return new Log({ logger: new StderrLogger(stderr, { serviceName: service, logLevel: level }) });
}
