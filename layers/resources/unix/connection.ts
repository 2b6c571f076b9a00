import { TargetUnchangedError } from '../../engine/errors.js';
import type { Log } from '../../engine/log.js';
import type { Redactor } from '../../engine/redact.js';
import type { Secret } from '../../engine/secret.js';
import { ExpectSession, expectFailureReason, type ExpectMatch } from '../../expect/session.js';
import { marker, prepareShell, exitStatusMarker, type ShellPrompt } from '../../expect/shell.js';
import { SshConnection, type SshLoginOptions } from '../../expect/ssh.js';
import { answerLogin, type LoginConversation } from '../../expect/login.js';
import { connectTelnet, type TelnetStreamInfo } from '../../expect/telnet.js';

/** A command running on the target, whatever the transport. */
export interface RunningCommand {
  readonly session: ExpectSession;
  /** Waits for one of the patterns, or for the command to end (then `ended`). */
  next(patterns: readonly RegExp[]): Promise<ExpectMatch | { ended: true }>;
  /** Waits for the command to end. A lost connection is a session failure (unchanged, or unknown after the change was sent). */
  finish(): Promise<{ exitCode: number; output: string }>;
  /** EOF on the command's input (Ctrl-D on a terminal). */
  endInput(): void;
  /** Gives up on the command (after a refusal): the transport is left clean or closed. */
  abort(): Promise<void>;
}

/** One login on a Unix host, reused for many commands. */
export interface UnixConnection {
  readonly protocol: 'ssh' | 'telnet';
  readonly closed: boolean;
  /** Whether bytes outside ASCII reach the target intact (a Telnet link is 7-bit unless binary mode was agreed). */
  readonly eightBitClean: boolean;
  /** Runs a command on a terminal. */
  run(command: string): Promise<RunningCommand>;
  /**
   * Runs a command whose standard input is `lines` (each followed by "\n"), then EOF — a pipe,
   * not a terminal. With `changes`, the session is marked as having sent the change just
   * before the lines go out.
   */
  runWithInput(command: string, lines: readonly Secret[], options: { changes: boolean }): Promise<RunningCommand>;
  close(): Promise<void>;
}

/**
 * `hostKey` is checked on every SSH login before a password or key is sent (see SshHostKeyCheck).
 * Telnet has no host key: a Telnet login cannot tell the host from an impostor, and its password
 * crosses the network in clear text.
 */
export interface ConnectionOptions extends SshLoginOptions {
  readonly protocol: 'ssh' | 'telnet';
  readonly redactor: Redactor;
  readonly log: Log;
}

export async function openConnection(options: ConnectionOptions): Promise<UnixConnection> {
  return options.protocol === 'ssh' ? SshUnixConnection.open(options) : TelnetUnixConnection.open(options);
}

class SshUnixConnection implements UnixConnection {
  readonly protocol = 'ssh' as const;
  readonly eightBitClean = true;
  readonly #ssh: SshConnection;
  readonly #options: ConnectionOptions;

  private constructor(ssh: SshConnection, options: ConnectionOptions) {
    this.#ssh = ssh;
    this.#options = options;
  }

  static async open(options: ConnectionOptions): Promise<SshUnixConnection> {
    return new SshUnixConnection(await SshConnection.connect(options), options);
  }

  get closed(): boolean {
    return this.#ssh.closed;
  }

  async run(command: string): Promise<RunningCommand> {
    return this.#wrap(await this.#ssh.exec(command, { pty: true }), true);
  }

  async runWithInput(command: string, lines: readonly Secret[], options: { changes: boolean }): Promise<RunningCommand> {
    const running = this.#wrap(await this.#ssh.exec(command), false);
    if (options.changes) running.session.markChangeSent();
    for (const line of lines) running.session.sendSecret(line, '\n');
    running.session.end();
    return running;
  }

  close(): Promise<void> {
    return this.#ssh.close();
  }

  #wrap(stream: Awaited<ReturnType<SshConnection['exec']>>, pty: boolean): RunningCommand {
    const session = new ExpectSession(stream, { redactor: this.#options.redactor, log: this.#options.log, timeoutMs: this.#options.timeoutMs, name: 'SSH command' });
    // Kept once read: `next` reads the end when the command ends instead of prompting, and the
    // caller's `finish` must still see what the command said.
    let ended: Promise<{ exitCode: number; output: string }> | undefined;
    const finish = () =>
      (ended ??= (async () => {
        const { info, output } = await session.expectClose();
        // A channel that closes without an exit status was cut with its connection.
        if (info.exitCode === undefined && info.signal === undefined) throw session.failure('closed', 'the connection was lost before the command reported its exit status');
        return { exitCode: info.exitCode ?? 128, output };
      })());
    return {
      session,
      async next(patterns) {
        try {
          return await session.expect(patterns);
        } catch (e) {
          if (expectFailureReason(e) === 'closed' && session.closed) {
            await finish();
            return { ended: true };
          }
          throw e;
        }
      },
      finish,
      endInput: () => (pty ? session.send('\x04') : session.end()),
      abort: async () => session.close(),
    };
  }
}

/** Unix `login` over Telnet (see answerLogin). */
const UNIX_TELNET_LOGIN: LoginConversation = {
  username: /(login|user ?name)\s*:\s*$/i,
  password: /password\s*:\s*$/i,
  refused: /login incorrect|authentication fail|permission denied|access denied/i,
  ready: [/[$#%>]\s*$/],
  // A shell prompt is loose ("$", "#", ">" at the end): a banner could end like one.
  readyOnlyAfterPassword: true,
  who: 'the target',
  what: 'the Telnet login',
};

/**
 * A Telnet login turned into a known shell (see prepareShell). Commands are typed into it
 * and print their exit status; input that must not be typed at a terminal prompt is read by
 * the shell builtin `read` and piped to the command, so it never appears on a command line.
 */
class TelnetUnixConnection implements UnixConnection {
  readonly protocol = 'telnet' as const;
  readonly #session: ExpectSession;
  readonly #prompt: ShellPrompt;
  readonly #stream: TelnetStreamInfo;
  #broken = false;

  private constructor(session: ExpectSession, prompt: ShellPrompt, stream: TelnetStreamInfo) {
    this.#session = session;
    this.#prompt = prompt;
    this.#stream = stream;
  }

  get eightBitClean(): boolean {
    return this.#stream.binary;
  }

  static async open(options: ConnectionOptions): Promise<TelnetUnixConnection> {
    if (!options.password) throw new TargetUnchangedError('a Telnet login needs a password');
    const stream = await connectTelnet(options);
    const session = new ExpectSession(stream, { redactor: options.redactor, log: options.log, timeoutMs: options.timeoutMs, name: 'Telnet shell' });
    try {
      await answerLogin(session, UNIX_TELNET_LOGIN, { username: options.username, password: options.password, link: stream });
      return new TelnetUnixConnection(session, await prepareShell(session), stream);
    } catch (e) {
      session.close();
      throw e;
    }
  }

  get closed(): boolean {
    return this.#broken || this.#session.closed;
  }

  async run(command: string): Promise<RunningCommand> {
    this.#session.markChangeSent(false);
    const status = exitStatusMarker(this.#prompt.token);
    this.#session.send(`${command}; ${status.command}\n`);
    return this.#running(status.pattern);
  }

  async runWithInput(command: string, lines: readonly Secret[], options: { changes: boolean }): Promise<RunningCommand> {
    this.#session.markChangeSent(false);
    const t = this.#prompt.token;
    const status = exitStatusMarker(t);
    const ready = marker('IN', t);
    const vars = lines.map((_, i) => `RPR_${i}`);
    // In a subshell, so the variables end with it; `printf` is a builtin: no argv holds them.
    const feed = `(${vars.map((v) => `IFS= read -r ${v}`).join(' && ')} && printf '%s\\n' ${vars.map((v) => `"$${v}"`).join(' ')} | ${command})`;
    this.#session.send(`${ready.command}; ${feed}; ${status.command}\n`);
    try {
      await this.#session.expect([ready.pattern]);
    } catch (e) {
      this.#broken = true;
      throw e;
    }
    if (options.changes) this.#session.markChangeSent();
    for (const line of lines) this.#session.sendSecret(line, '\n');
    return this.#running(status.pattern);
  }

  close(): Promise<void> {
    this.#session.close();
    return Promise.resolve();
  }

  #running(statusPattern: RegExp): RunningCommand {
    const session = this.#session;
    const prompt = this.#prompt.pattern;
    let exit: { exitCode: number; output: string } | undefined;
    const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (e) {
        // The shell's state is unknown after a failed wait: the next account gets a new login.
        this.#broken = true;
        throw e;
      }
    };
    const finish = () =>
      guard(async () => {
        if (!exit) {
          const m = await session.expect([statusPattern]);
          exit = { exitCode: Number(m.match[1]), output: m.before };
        }
        await session.expect([prompt]);
        return exit;
      });
    return {
      session,
      next: (patterns) =>
        guard(async () => {
          const m = await session.expect([...patterns, statusPattern]);
          if (m.index < patterns.length) return m;
          exit = { exitCode: Number(m.match[1]), output: m.before };
          return { ended: true as const };
        }),
      finish,
      endInput: () => session.send('\x04'),
      abort: async () => {
        // Ctrl-C ends the command; the status marker and prompt show the shell is back.
        // An interrupted command line may skip its status marker: the prompt is enough.
        try {
          session.send('\x03');
          await session.expect([prompt]);
        } catch {
          this.#broken = true;
        }
      },
    };
  }
}
