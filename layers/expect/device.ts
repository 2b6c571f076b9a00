import { AuthenticationError, NotSupportedError, OutcomeUnknownError, TargetUnchangedError, type ResetError } from '../engine/errors.js';
import type { Log } from '../engine/log.js';
import { REDACTED, type Redactor } from '../engine/redact.js';
import { Secret } from '../engine/secret.js';
import { answerLogin } from './login.js';
import { said } from './outcome.js';
import { ExpectSession, expectFailureReason, type ExpectMatch } from './session.js';
import type { Stream } from './stream.js';

/**
 * One vendor's CLI as the device session needs it: plain data, written by each driver from the
 * vendor's documentation. Patterns that name a prompt (`prompts`, `login.username`,
 * `login.password`, `paging.more`, `pressAnyKey`, `enable.password`) are matched at the end of
 * the output (the session anchors them with `\s*$`): write them to match the whole prompt line,
 * e.g. /(?:^|\n)[\w.-]+#$/, so that a "#" inside output is not taken for a prompt. Their `g`, `y`
 * and `m` flags are dropped (with `m`, `$` would match inside the output): anchor a line start
 * with `(?:^|\n)`, not `^`. Other patterns (`errors`, refusals, answers) match anywhere.
 */
export interface DeviceDialect {
  /** Most privileged mode first is not required: the session tries configuration, then privileged, then user. A one-mode device gives `user` only. */
  readonly prompts: { readonly user: RegExp; readonly privileged?: RegExp; readonly configuration?: RegExp };
  /** The device's own login prompts and its refusal (/Username: ?$/, /Password: ?$/, /% Login invalid|% Authentication failed|Access denied/). */
  readonly login: {
    readonly username: RegExp;
    readonly password: RegExp;
    readonly failed: RegExp;
    /**
     * Questions the login must not answer (ScreenOS's "Accept this agreement y/[n]" on a factory
     * device): the session drops the connection unanswered and fails with TargetUnchangedError(message).
     */
    readonly stops?: readonly { readonly pattern: RegExp; readonly message: string }[];
  };
  /** `off`: commands that turn paging off ('terminal length 0'); `more`: paging prompts, answered with a space wherever they appear. */
  readonly paging?: { readonly off?: readonly string[]; readonly more?: readonly RegExp[] };
  /** "Press any key to continue" (ProCurve's banner), answered with a space. */
  readonly pressAnyKey?: RegExp;
  /** Markers of a command the device did not take (include COMMON_ERROR_MARKERS where they fit). */
  readonly errors: readonly RegExp[];
  readonly enable?: { readonly command: string; readonly password: RegExp; readonly refused: RegExp };
  readonly configuration?: { readonly enter: string; readonly leave: string };
  readonly save?: { readonly command: string; readonly confirmations?: readonly { readonly pattern: RegExp; readonly answer: string }[]; readonly success?: RegExp };
  /** Logout, and its questions with the answers that log out without saving. */
  readonly logout: { readonly command: string; readonly questions?: readonly { readonly pattern: RegExp; readonly answer: string }[] };
  /** What ends a typed line; "\n" unless the device needs "\r". */
  readonly newline?: string;
}

/** Error markers most IOS-like CLIs print (IOS, CatOS, PIX/ASA, ProCurve, ScreenOS, ILOM, XSCF). */
export const COMMON_ERROR_MARKERS: readonly RegExp[] = [
  /% ?Invalid input/i,
  /% ?Incomplete command/i,
  /% ?Ambiguous command/i,
  /% ?Unknown command/i,
  /^ERROR:/m,
  /Invalid command/i,
];

/**
 * The login a device session answers. `username` undefined with a password: a login with the
 * password alone (a line password). Both undefined: the transport already authenticated (SSH),
 * the session only finds the prompt; a device that still prompts after SSH authentication is
 * answered from the same login.
 */
export interface DeviceLogin {
  readonly username?: string;
  readonly password?: Secret;
}

export type DeviceMode = 'user' | 'privileged' | 'configuration';

export interface DeviceSessionOptions {
  readonly redactor: Redactor;
  readonly log?: Log;
  /** Deadline of one wait (and of a command, unless it gives its own). */
  readonly timeoutMs: number;
  readonly name?: string;
  readonly login?: DeviceLogin;
  /** Output held while waiting for the prompt (a whole `show running-config`); DEVICE_MAX_OUTPUT_BYTES by default. */
  readonly maxBufferBytes?: number;
}

/** Output of one command held before its prompt: a large device configuration fits. */
export const DEVICE_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

export interface CommandAnswer {
  readonly pattern: RegExp;
  readonly reply: string | Secret;
  /** Answered once; the next time the question is left to time out (a repeated "New password:" is a refusal). */
  readonly once?: boolean;
}

export interface CommandOptions {
  readonly answers?: readonly CommandAnswer[];
  /** The line may change the device: from the moment it is sent, anything but a known refusal or success is OutcomeUnknownError. */
  readonly change?: boolean;
  /** With `change`: the output must match one of these, or the outcome is unknown. */
  readonly success?: readonly RegExp[];
  /** With `change`: output saying the device refused (nothing changed): TargetUnchangedError. */
  readonly refusals?: readonly RegExp[];
  readonly timeoutMs?: number;
}

/** Leaving the device (configuration mode, logout) is bounded by this, whatever the session's timeout. */
const CLOSE_DEADLINE_MS = 3_000;

/** A prompt pattern matched at the end of the output. */
function atEnd(p: RegExp): RegExp {
  return new RegExp(`(?:${p.source})\\s*$`, p.flags.replace(/[gmy]/g, ''));
}

/** What remains of a line once terminal noise is taken out: escape sequences, controls, backspace erasure. */
function visible(text: string): string {
  let out = '';
  // eslint-disable-next-line no-control-regex
  for (const ch of text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')) {
    if (ch === '\b') out = out.slice(0, -1);
    else if (ch >= ' ' && ch !== '\x7f') out += ch;
  }
  return out;
}

/**
 * A logged-in device CLI over any Stream (SSH shell, Telnet), built on ExpectSession: the login,
 * paging, privileged and configuration modes, commands read to the prompt with the vendor's error
 * markers, confirmations answered, and a clean exit (configuration left, logged out, never saved).
 *
 * Secrets are sent with `sendSecret` on a session with `echoFragments`, so every transcript, error
 * and output is redacted by the Redactor's fragment rule (see Redactor.withFragments): the device
 * echoes what is typed, whole, in part, split across reads or with line-editing noise inside.
 */
export class DeviceSession {
  readonly #s: ExpectSession;
  readonly #dialect: DeviceDialect;
  readonly #timeoutMs: number;
  readonly #log: Log | undefined;
  readonly #nl: string;
  readonly #modes: { pattern: RegExp; mode: DeviceMode }[];
  readonly #more: RegExp[];
  #mode: DeviceMode = 'user';
  #closing: Promise<void> | undefined;
  /** A device prompt has been seen: the login is over. */
  #prompted = false;

  private constructor(stream: Stream, dialect: DeviceDialect, options: DeviceSessionOptions) {
    this.#s = new ExpectSession(stream, { redactor: options.redactor, timeoutMs: options.timeoutMs, name: options.name ?? 'device CLI', echoFragments: true, maxBufferBytes: options.maxBufferBytes ?? DEVICE_MAX_OUTPUT_BYTES, ...(options.log ? { log: options.log } : {}) });
    this.#dialect = dialect;
    this.#timeoutMs = options.timeoutMs;
    this.#log = options.log;
    this.#nl = dialect.newline ?? '\n';
    const p = dialect.prompts;
    this.#modes = [
      ...(p.configuration ? [{ pattern: atEnd(p.configuration), mode: 'configuration' as const }] : []),
      ...(p.privileged ? [{ pattern: atEnd(p.privileged), mode: 'privileged' as const }] : []),
      { pattern: atEnd(p.user), mode: 'user' as const },
    ];
    this.#more = [...(dialect.paging?.more ?? []), ...(dialect.pressAnyKey ? [dialect.pressAnyKey] : [])].map(atEnd);
  }

  /**
   * Logs in (when the device asks), dismisses "press any key", finds the prompt and turns paging
   * off. A refused login is AuthenticationError; any other failure TargetUnchangedError or
   * TargetTimeoutError (nothing was changed). The stream is closed on failure.
   */
  static async open(stream: Stream, dialect: DeviceDialect, options: DeviceSessionOptions): Promise<DeviceSession> {
    const d = new DeviceSession(stream, dialect, options);
    try {
      await d.#login(options.login ?? {}, stream);
      for (const line of dialect.paging?.off ?? []) {
        const { raw } = await d.#run([line], {}, 'turning paging off');
        // A device that does not take it pages: its more prompts are answered everywhere.
        if (d.#errorIn(raw)) d.#log?.debug('device: paging could not be turned off', { command: line });
      }
    } catch (e) {
      // Logged in: log out properly. Still at a login prompt: a logout typed there would be a user name.
      if (d.#prompted) await d.close();
      else d.#s.close();
      throw d.#redacted(e);
    }
    return d;
  }

  get mode(): DeviceMode {
    return this.#mode;
  }

  /** True once the stream ended: the device logged the session out, the connection dropped, or close() ran. */
  get closed(): boolean {
    return this.#s.closed;
  }

  /** The redactor with every secret this session has typed (fragments included), for the caller's own messages. */
  get redactor(): Redactor {
    return this.#s.redactor;
  }

  async #login(login: DeviceLogin, link: Stream): Promise<void> {
    const l = this.#dialect.login;
    const ready = await answerLogin(
      this.#s,
      {
        username: atEnd(l.username),
        password: atEnd(l.password),
        refused: l.failed,
        ready: this.#modes.map((x) => x.pattern),
        stops: (l.stops ?? []).map((x) => ({ pattern: atEnd(x.pattern), message: x.message })),
        more: this.#more,
        newline: this.#nl,
        who: 'the device',
        what: 'the login',
      },
      { ...login, link },
    );
    this.#mode = this.#modes[ready]!.mode;
    this.#prompted = true;
  }

  /** Enters privileged mode; a no-op when already there, or on a device with one mode. A refusal is AuthenticationError (nothing changed). */
  async enable(password?: Secret): Promise<void> {
    const e = this.#dialect.enable;
    if (this.#mode !== 'user' || !this.#dialect.prompts.privileged) return;
    if (!e) throw new NotSupportedError('enable', 'the device dialect has a privileged mode but no enable command');
    const prompts = this.#modes.length;
    const patterns = [...this.#modes.map((m) => m.pattern), atEnd(e.password), e.refused, ...this.#more];
    this.#s.send(e.command + this.#nl);
    let sent = false;
    let output = '';
    for (let rounds = 0; rounds < 10; rounds++) {
      const m = await this.#s.expect(patterns);
      output += m.before + m.match[0];
      if (m.index < prompts) {
        this.#mode = this.#modes[m.index]!.mode;
        if (this.#mode === 'user') throw new AuthenticationError(this.#s.redactor.redact(`the device refused the enable password: ${said(visible(output))}`));
        return;
      }
      if (m.index === prompts) {
        if (!password || sent) {
          // Give up at its password prompt: an empty line is refused and the prompt returns.
          await this.#recover();
          throw new AuthenticationError(this.#s.redactor.redact(password ? `the device refused the enable password: ${said(visible(output))}` : 'the device asks for an enable password and none is configured'));
        }
        sent = true;
        this.#s.sendSecret(password, this.#nl);
      } else if (m.index === prompts + 1) {
        await this.#recover();
        throw new AuthenticationError(this.#s.redactor.redact(`the device refused the enable password: ${said(visible(output))}`));
      } else this.#s.send(' ');
    }
    throw new TargetUnchangedError('the device kept asking after the enable command');
  }

  /** Enters configuration mode (a no-op when in it, or on a device without one). */
  async configure(): Promise<void> {
    const c = this.#dialect.configuration;
    if (!c || this.#mode === 'configuration') return;
    const { output, raw } = await this.#run([c.enter], {}, c.enter);
    if (this.#errorIn(raw) || (this.#mode as DeviceMode) !== 'configuration') {
      throw new TargetUnchangedError(this.#s.redactor.redact(`the device did not enter configuration mode on ${JSON.stringify(c.enter)}: ${said(output)}`));
    }
  }

  async leaveConfiguration(): Promise<void> {
    const c = this.#dialect.configuration;
    if (!c || this.#mode !== 'configuration') return;
    const { output } = await this.#run([c.leave], {}, c.leave);
    if ((this.#mode as DeviceMode) === 'configuration') throw new TargetUnchangedError(this.#s.redactor.redact(`the device stayed in configuration mode after ${JSON.stringify(c.leave)}: ${said(output)}`));
  }

  /**
   * Types a line (Secrets with sendSecret), answers the questions before the device's prompt and
   * reads to the prompt before the deadline. Returns the redacted output between the echo and the
   * prompt. Errors: see CommandOptions; without `change`, an error marker is TargetUnchangedError.
   * `errors` and `refusals` are tested against the device's output without the echo of the line;
   * `success` against the redacted output (so a secret's echo can never read as success, and the
   * fragment rule hiding part of a success message makes the outcome unknown, never a false success).
   */
  async command(line: string | readonly (string | Secret)[], options: CommandOptions = {}): Promise<{ output: string }> {
    const parts = typeof line === 'string' ? [line] : line;
    const shown = parts.map((p) => (p instanceof Secret ? REDACTED : p)).join('');
    if (this.#s.closed) throw this.#s.failure('closed', `cannot send ${JSON.stringify(shown)}: the session is closed`);
    const { output, raw: withEcho } = await this.#run(parts, options, shown);
    const redact = (t: string) => this.#s.redactor.redact(t);
    // The device's words without the echo of the line: a typed secret never counts as a marker.
    const raw = stripEcho(withEcho, parts);
    if (!options.change) {
      if (this.#errorIn(raw)) throw new TargetUnchangedError(redact(`the device refused ${JSON.stringify(shown)}: ${said(output)}`));
      return { output };
    }
    try {
      if (options.refusals?.some((r) => r.test(raw))) throw new TargetUnchangedError(redact(`the device refused ${JSON.stringify(shown)}: ${said(output)}`));
      if (this.#errorIn(raw)) throw new OutcomeUnknownError(redact(`the device answered ${JSON.stringify(shown)} with an error this driver does not know: ${said(output)}`));
      // Success is read in the redacted output: an echoed secret can only make it fail (unknown, the safe side).
      if (options.success && !options.success.some((r) => r.test(output))) {
        throw new OutcomeUnknownError(redact(`the device's answer to ${JSON.stringify(shown)} is not a known success: ${said(output)}`));
      }
    } catch (e) {
      // A known refusal: the device is as it was, and the session may go on.
      if (e instanceof TargetUnchangedError) this.#s.markChangeSent(false);
      throw e;
    }
    this.#s.markChangeSent(false);
    return { output };
  }

  /** The dialect's save, its confirmations answered. Called by the adapter only after a change known to have succeeded. */
  async save(): Promise<void> {
    const v = this.#dialect.save;
    if (!v) throw new NotSupportedError('copyToStartup', 'this device has no command that saves its configuration');
    await this.command(v.command, {
      change: true,
      answers: (v.confirmations ?? []).map((c) => ({ pattern: c.pattern, reply: c.answer })),
      ...(v.success ? { success: [v.success] } : {}),
    });
  }

  /** Leaves configuration mode, logs out answering the logout questions (never saving), closes the stream. Bounded, never throws, idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const deadline = Date.now() + Math.min(this.#timeoutMs, CLOSE_DEADLINE_MS);
    const left = () => Math.max(1, deadline - Date.now());
    try {
      if (this.#s.closed) return;
      this.#s.markChangeSent(false);
      const c = this.#dialect.configuration;
      if (c && this.#mode === 'configuration') {
        this.#s.send(c.leave + this.#nl);
        const m = await this.#s.expect([...this.#modes.map((x) => x.pattern), ...this.#more], { timeoutMs: left() });
        if (m.index < this.#modes.length) this.#mode = this.#modes[m.index]!.mode;
      }
      const questions = this.#dialect.logout.questions ?? [];
      this.#s.send(this.#dialect.logout.command + this.#nl);
      const patterns = [...questions.map((q) => q.pattern), ...this.#more, ...this.#modes.map((x) => x.pattern)];
      for (let rounds = 0; rounds < 8 && !this.#s.closed; rounds++) {
        const m = await this.#s.expect(patterns, { timeoutMs: left() });
        if (m.index < questions.length) this.#s.send(questions[m.index]!.answer);
        else if (m.index < questions.length + this.#more.length) this.#s.send(' ');
        // The prompt again: one level left (a sub-mode); log out from the next.
        else this.#s.send(this.#dialect.logout.command + this.#nl);
      }
    } catch (e) {
      // The device closing the session is how a logout ends; anything else is logged only.
      if (expectFailureReason(e) !== 'closed') this.#log?.debug('device: logout incomplete', { error: this.#s.redactor.redact(e instanceof Error ? e.message : String(e)) });
    } finally {
      try {
        this.#s.close();
      } catch {
        // Already torn down.
      }
    }
  }

  /** Everything sent and received (bounded), redacted. */
  transcript(): string {
    return this.#s.transcript();
  }

  #errorIn(raw: string): boolean {
    return this.#dialect.errors.some((r) => r.test(raw));
  }

  /**
   * Sends one line and reads to the prompt, answering questions and paging. `raw` is the device's
   * output unredacted, for tests against markers only; `output` is redacted, the echo removed.
   */
  async #run(parts: readonly (string | Secret)[], options: CommandOptions, shown: string): Promise<{ output: string; raw: string }> {
    const deadline = Date.now() + (options.timeoutMs ?? this.#timeoutMs);
    const answers = [...(options.answers ?? [])];
    const used = new Set<number>();
    if (options.change) this.#s.markChangeSent();
    for (const p of parts) {
      if (p instanceof Secret) this.#s.sendSecret(p);
      else this.#s.send(p);
    }
    this.#s.send(this.#nl);
    let raw = '';
    for (let rounds = 0; rounds < 10_000; rounds++) {
      const live = answers.map((a, i) => (used.has(i) ? /(?!)/ : a.pattern));
      let m: ExpectMatch;
      try {
        m = await this.#s.expect([...this.#modes.map((x) => x.pattern), ...live, ...this.#more], { timeoutMs: Math.max(1, deadline - Date.now()) });
      } catch (e) {
        throw this.#redacted(e);
      }
      const prompts = this.#modes.length;
      // A device answers a typed line on the lines after its echo: a "prompt" before the echo's
      // line break is the echo itself, cut between reads (a password with ">" or "#" in it).
      if (m.index < prompts && !/\n/.test(raw + m.before + m.match[0])) {
        raw += m.before + m.match[0];
        continue;
      }
      if (m.index < prompts) {
        raw += m.before;
        this.#mode = this.#modes[m.index]!.mode;
        // The line break before the prompt is the prompt's.
        return { raw, output: this.#s.redactor.redact(stripEcho(raw, parts).replace(/\r$/, '')) };
      }
      if (m.index < prompts + answers.length) {
        raw += m.before + m.match[0];
        const i = m.index - prompts;
        const a = answers[i]!;
        if (a.once) used.add(i);
        if (a.reply instanceof Secret) this.#s.sendSecret(a.reply, this.#nl);
        else this.#s.send(a.reply + this.#nl);
      } else {
        // A more prompt: its text is not output.
        raw += m.before;
        this.#s.send(' ');
      }
    }
    throw this.#s.failure('overflow', `no prompt after ${JSON.stringify(shown)}`);
  }

  /** Back to a prompt after a refused password prompt: empty lines until the device shows one, briefly. */
  async #recover(): Promise<void> {
    for (let i = 0; i < 3 && !this.#s.closed; i++) {
      this.#s.send(this.#nl);
      try {
        const m = await this.#s.expect(this.#modes.map((x) => x.pattern), { timeoutMs: Math.min(this.#timeoutMs, 1_000) });
        this.#mode = this.#modes[m.index]!.mode;
        return;
      } catch {
        // Still at a password prompt, or gone: try again, then let close() tidy up.
      }
    }
  }

  #redacted(e: unknown): unknown {
    return e instanceof Error ? (this.#s.redactor.redactError(e) as ResetError) : e;
  }
}

/** The output without the device's echo of the typed line (its first line, when it ends like the line typed). */
function stripEcho(raw: string, parts: readonly (string | Secret)[]): string {
  const typed = visible(parts.map((p) => (p instanceof Secret ? p.reveal() : p)).join(''));
  const nl = raw.indexOf('\n');
  const first = visible(nl === -1 ? raw : raw.slice(0, nl));
  const tail = typed.slice(-Math.min(8, typed.length));
  const echoed = typed.length > 0 && first.length > 0 && (first.endsWith(tail) || typed.startsWith(first) || first.startsWith(typed.slice(0, 8)));
  if (!echoed) return raw;
  return nl === -1 ? '' : raw.slice(nl + 1);
}
