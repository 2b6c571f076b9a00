import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Configurator } from '../layers/engine/configure.js';
import type { Selector } from '../layers/engine/engine.js';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import type { LogLevel } from '../layers/engine/log.js';
import type { AdapterRegistry } from '../layers/engine/session.js';
import type { AwsClients, AwsTarget } from './aws.js';
import type { StoreOptions, Stores } from './stores.js';

/** Exit codes: scripts tell success, partial failure, bad input and total failure apart. */
export const EXIT = { ok: 0, partial: 1, badInput: 2, failed: 3, error: 4 } as const;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
}

export type GlobalOptions = StoreOptions & { json?: boolean; logLevel: LogLevel };

/**
 * What every command group gets from the program (see program.ts): the global options, the
 * stores (opened once, closed when the command ends), output and the exit code.
 */
export interface CommandContext {
  readonly io: Io;
  readonly aws: AwsClients;
  /** When given, the only adapters `reset` and `status` use (tests pass their own); else each type's, loaded when first needed. */
  readonly adapters?: AdapterRegistry;
  readonly exit: typeof EXIT;
  globals(): GlobalOptions;
  /** Whether --log-level was given (an agent logs INFO unless told otherwise). */
  logLevelGiven(): boolean;
  /** Human text, or `json` with --json. */
  out(human: string, json: unknown): void;
  setExit(code: number): void;
  /** The stores, closed when the command ends. */
  openStores(overrides?: Partial<StoreOptions>): Promise<Stores>;
  /** A Configurator on the stores, for commands that write configuration. */
  configurator(): Promise<Configurator>;
}

/** A repeatable option's values, in order. */
export const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The selector options of `reset`, `run start` and `schedule add`: they combine with AND, repeated values with OR. */
export interface SelectorOptions {
  account?: string[];
  resource?: string[];
  type?: string[];
  tag?: string[];
  site?: string[];
}

export function withSelectorOptions(c: Command): Command {
  return c
    .option('--account <id>', 'repeatable', collect)
    .option('--resource <id>', 'repeatable', collect)
    .option('--type <type>', 'repeatable', collect)
    .option('--tag <tag>', 'account or resource tag; repeatable', collect)
    .option('--site <site>', 'repeatable', collect);
}

/** The selector the options name (the engine's and the workflow's shape); empty when none is given. */
export function selectorOf(o: SelectorOptions): Selector {
  return {
    ...(o.account ? { accountIds: o.account } : {}),
    ...(o.resource ? { resourceIds: o.resource } : {}),
    ...(o.type ? { types: o.type } : {}),
    ...(o.tag ? { tags: o.tag } : {}),
    ...(o.site ? { sites: o.site } : {}),
  };
}

/** The global --region and --endpoint, for every AWS client. */
export function awsTarget(ctx: CommandContext, credentials?: AwsTarget['credentials']): AwsTarget {
  const g = ctx.globals();
  return { ...(g.region ? { region: g.region } : {}), ...(g.endpoint ? { endpoint: g.endpoint } : {}), ...(credentials ? { credentials } : {}) };
}

/** A deployed stack's outputs: from the file `cdk deploy --outputs-file` writes, or read from the stack. */
export async function stackOutputs(ctx: CommandContext, o: { stack?: string; outputsFile?: string }): Promise<Record<string, string>> {
  if (o.outputsFile) {
    let file: Record<string, Record<string, string>>;
    try {
      file = JSON.parse(readFileSync(o.outputsFile, 'utf8')) as Record<string, Record<string, string>>;
    } catch (e) {
      throw new InvalidConfigurationError('--outputs-file', `cannot read ${o.outputsFile}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const stacks = Object.keys(file);
    const name = o.stack ?? (stacks.length === 1 ? stacks[0] : undefined);
    if (!name || !file[name]) throw new InvalidConfigurationError('--stack', `name one of the stacks in ${o.outputsFile}: ${stacks.join(', ') || '(none)'}`);
    return file[name];
  }
  if (!o.stack) return {};
  return ctx.aws.stackOutputs(o.stack, awsTarget(ctx));
}

const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

export const ARN = {
  activity: /^arn:aws[\w-]*:states:[^:]+:\d{12}:activity:/,
  stateMachine: /^arn:aws[\w-]*:states:[^:]+:\d{12}:stateMachine:/,
  role: /^arn:aws[\w-]*:iam::\d{12}:role\//,
  lambda: /^arn:aws[\w-]*:lambda:[^:]+:\d{12}:function:/,
};

/**
 * The output whose value is an ARN of the given kind and whose key names every hint
 * (case and punctuation ignored): e.g. an activity ARN under a key naming the site "dmz1".
 */
export function findOutput(outputs: Record<string, string>, arn: RegExp, ...hints: string[]): string | undefined {
  const matches = Object.entries(outputs).filter(([k, v]) => arn.test(v) && hints.every((h) => squash(k).includes(squash(h))));
  return matches.length === 1 ? matches[0]![1] : undefined;
}

export const positiveInt = (field: string) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new InvalidConfigurationError(field, `must be a positive whole number, got "${v}"`);
  return n;
};
