/**
 * A Terminal (dialect.ts) in memory, for a dialect's own unit tests: the client's input is a
 * queue of lines and keys, the output is one string. No transport, no echo, no paging (the
 * server core's tests cover those); it runs a dialect's session exactly as the core calls it.
 */
import type { Dialect, LoginInfo, Terminal } from './dialect.js';

export class MemoryTerminal implements Terminal {
  readonly transport: 'ssh' | 'telnet';
  pageLength = 0;
  /** Everything the dialect wrote, prompts included. */
  output = '';
  /** What the dialect reported applied (Terminal.applied). */
  readonly appliedChanges: string[] = [];
  /** Prompts the dialect read with echo off, in order. */
  readonly secretPrompts: string[] = [];
  /** Armed refusal, handed out once by refusal(). */
  refuseNext: string | undefined;
  #input: string[] = [];
  #waiting: ((line: string | undefined) => void) | undefined;
  #closed = false;

  constructor(transport: 'ssh' | 'telnet' = 'ssh') {
    this.transport = transport;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues lines (or single keys, for key()) the client types. */
  type(...lines: string[]): void {
    this.#input.push(...lines);
    this.#feed();
  }

  print(text: string): Promise<void> {
    if (!this.#closed) this.output += text;
    return Promise.resolve();
  }

  read(prompt: string, options: { readonly echo?: boolean } = {}): Promise<string | undefined> {
    void this.print(prompt);
    if (options.echo === false) this.secretPrompts.push(prompt);
    return this.#next();
  }

  key(prompt: string): Promise<string | undefined> {
    void this.print(prompt);
    return this.#next();
  }

  applied(what: string): void {
    this.appliedChanges.push(what);
  }

  refusal(): string | undefined {
    const r = this.refuseNext;
    this.refuseNext = undefined;
    return r;
  }

  close(): void {
    this.#closed = true;
    this.#feed();
  }

  /** Output since the last call. */
  take(): string {
    const out = this.output;
    this.output = '';
    return out;
  }

  #next(): Promise<string | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#feed();
    });
  }

  #feed(): void {
    const waiting = this.#waiting;
    if (!waiting) return;
    if (this.#closed) {
      this.#waiting = undefined;
      waiting(undefined);
    } else if (this.#input.length > 0) {
      this.#waiting = undefined;
      waiting(this.#input.shift());
    }
  }
}

/**
 * Runs `dialect`'s session for a login that `authenticate` granted, typing `lines` one at a time,
 * and resolves with the output once every line is read and the dialect waits for more (or ended).
 * Throws when the login is refused.
 */
export async function runSession(
  dialect: Dialect,
  login: { username?: string; password: string },
  lines: readonly string[],
  term: MemoryTerminal = new MemoryTerminal(),
): Promise<{ output: string; term: MemoryTerminal; done: Promise<void> }> {
  const grant: unknown = dialect.login.authenticate(login.username, login.password, term.transport);
  if (!grant) throw new Error(`${dialect.name}: login refused for ${String(login.username)}`);
  const info: LoginInfo = { username: login.username, grant };
  term.pageLength = 0;
  const done = dialect.session(term, info);
  term.type(...lines);
  // Let the dialect consume every queued line (each read is a microtask hop or a timer).
  for (let i = 0; i < 1000 && !term.closed; i++) await new Promise((r) => setImmediate(r));
  return { output: term.output, term, done };
}
