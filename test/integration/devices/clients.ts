/**
 * Test clients for the device simulators, independent of layers/expect: ssh2's Client with a
 * shell, and a Telnet client over a raw socket that negotiates (or refuses) NAWS and TTYPE as a
 * test asks and keeps every byte it received, so echo and negotiation can be checked.
 */
import { spawnSync } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import ssh2 from 'ssh2';

const { Client } = ssh2;

/** A conversation's output so far, read forward with `expect`. */
export class Conversation {
  output = '';
  /** Every chunk as it arrived (to see slow output come in pieces). */
  readonly chunks: string[] = [];
  #cursor = 0;
  #wake: (() => void) | undefined;
  closed = false;
  readonly #send: (text: string) => void;
  readonly #end: () => void;

  constructor(send: (text: string) => void, end: () => void) {
    this.#send = send;
    this.#end = end;
  }

  push(text: string): void {
    this.output += text;
    this.chunks.push(text);
    this.#wake?.();
  }

  markClosed(): void {
    this.closed = true;
    this.#wake?.();
  }

  send(text: string): void {
    this.#send(text);
  }

  end(): void {
    this.#end();
  }

  /** Waits for `pattern` after the cursor; returns the text up to and including it and moves on. */
  async expect(pattern: string | RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.output.slice(this.#cursor);
      const m = typeof pattern === 'string' ? (rest.includes(pattern) ? { index: rest.indexOf(pattern), length: pattern.length } : undefined) : (() => {
        const r = pattern.exec(rest);
        return r ? { index: r.index, length: r[0].length } : undefined;
      })();
      if (m) {
        const text = rest.slice(0, m.index + m.length);
        this.#cursor += m.index + m.length;
        return text;
      }
      if (this.closed) throw new Error(`closed before ${String(pattern)}; got ${JSON.stringify(rest)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${String(pattern)}; got ${JSON.stringify(rest)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          this.#wake = undefined;
          resolve();
        };
      });
    }
  }

  /** Resolves once the connection closed. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export interface SshOptions {
  readonly username: string;
  readonly password: string;
  readonly pty?: { readonly rows: number; readonly cols: number; readonly term: string } | false;
  readonly algorithms?: ssh2.Algorithms;
}

/** Logs in over SSH and opens a shell; rejects when the login is refused. */
export async function sshShell(port: number, options: SshOptions): Promise<Conversation> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.on('ready', () => resolve());
    client.on('error', reject);
    client.connect({ host: '127.0.0.1', port, username: options.username, password: options.password, readyTimeout: 5000, ...(options.algorithms ? { algorithms: options.algorithms } : {}) });
    // Small request/answer packets: without TCP_NODELAY each exchange waits on a delayed ACK.
    client.setNoDelay(true);
  });
  const pty = options.pty === undefined ? { rows: 24, cols: 80, term: 'vt100' } : options.pty;
  const channel = await new Promise<ssh2.ClientChannel>((resolve, reject) =>
    client.shell(pty === false ? false : { rows: pty.rows, cols: pty.cols, term: pty.term }, (err, ch) => (err ? reject(err) : resolve(ch))),
  );
  const conv = new Conversation(
    (t) => channel.write(t),
    () => client.end(),
  );
  channel.on('data', (d: Buffer) => conv.push(d.toString('utf8')));
  channel.on('close', () => {
    conv.markClosed();
    client.end();
  });
  client.on('close', () => conv.markClosed());
  return conv;
}

const IAC = 255;
const WILL = 251;
const WONT = 252;
const DO = 253;
const DONT = 254;
const SB = 250;
const SE = 240;

export interface TelnetOptions {
  /** The window to report, or false to refuse NAWS. */
  readonly naws?: { readonly columns: number; readonly rows: number } | false;
  /** The terminal type to report, or false to refuse TTYPE. */
  readonly ttype?: string | false;
}

export interface TelnetConversation extends Conversation {
  /** Every byte received, negotiation included. */
  readonly raw: Buffer[];
  /** Negotiation commands received, as "WILL 1", "DO 31", "SB 24 1". */
  readonly commands: string[];
}

/** Connects over Telnet, answering the server's options as `options` says. */
export async function telnet(port: number, options: TelnetOptions = {}): Promise<TelnetConversation> {
  const socket: Socket = netConnect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const conv = new Conversation(
    (t) => socket.write(Buffer.from(t, 'utf8')),
    () => socket.end(),
  ) as TelnetConversation;
  Object.assign(conv, { raw: [], commands: [] });
  const naws = options.naws ?? { columns: 132, rows: 50 };
  const ttype = options.ttype ?? 'XTERM';
  let state: 'data' | 'iac' | 'verb' | 'sb' | 'sb-iac' = 'data';
  let verb = 0;
  let sb: number[] = [];
  socket.on('data', (chunk: Buffer) => {
    conv.raw.push(chunk);
    const data: number[] = [];
    for (const b of chunk) {
      if (state === 'data') {
        if (b === IAC) state = 'iac';
        else data.push(b);
      } else if (state === 'iac') {
        if (b === IAC) {
          data.push(b);
          state = 'data';
        } else if (b >= WILL && b <= DONT) {
          verb = b;
          state = 'verb';
        } else if (b === SB) {
          sb = [];
          state = 'sb';
        } else state = 'data';
      } else if (state === 'verb') {
        conv.commands.push(`${{ 251: 'WILL', 252: 'WONT', 253: 'DO', 254: 'DONT' }[verb]} ${b}`);
        if (verb === WILL) socket.write(Buffer.from([IAC, DO, b]));
        else if (verb === DO && b === 31) {
          if (naws === false) socket.write(Buffer.from([IAC, WONT, 31]));
          else socket.write(Buffer.from([IAC, WILL, 31, IAC, SB, 31, ...escape([naws.columns >> 8, naws.columns & 255, naws.rows >> 8, naws.rows & 255]), IAC, SE]));
        } else if (verb === DO && b === 24) socket.write(Buffer.from([IAC, ttype === false ? WONT : WILL, 24]));
        else if (verb === DO) socket.write(Buffer.from([IAC, WONT, b]));
        state = 'data';
      } else if (state === 'sb') {
        if (b === IAC) state = 'sb-iac';
        else sb.push(b);
      } else {
        conv.commands.push(`SB ${sb.join(' ')}`);
        if (sb[0] === 24 && sb[1] === 1 && ttype !== false) socket.write(Buffer.from([IAC, SB, 24, 0, ...Buffer.from(ttype, 'latin1'), IAC, SE]));
        state = 'data';
      }
    }
    if (data.length > 0) conv.push(Buffer.from(data).toString('utf8'));
  });
  socket.on('close', () => conv.markClosed());
  socket.on('error', () => undefined);
  return conv;
}

function escape(bytes: number[]): number[] {
  return bytes.flatMap((b) => (b === IAC ? [IAC, IAC] : [b]));
}

/** Whether a program runs here (`ssh -V`, `python3 -c ...`), for tests that skip with a reason. */
export function available(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * OpenSSH's client as a second, independent SSH implementation: the password comes from an
 * SSH_ASKPASS script (SSH_ASKPASS_REQUIRE=force), `-tt` gives the session a terminal.
 */
export async function openSsh(port: number, username: string, password: string, extra: readonly string[] = []): Promise<Conversation & { stderr(): string }> {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { spawn } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'rpr-askpass-'));
  const askpass = join(dir, 'askpass.sh');
  writeFileSync(askpass, `#!/bin/sh\nprintf '%s\\n' '${password.replace(/'/g, "'\\''")}'\n`, { mode: 0o700 });
  const child = spawn(
    'ssh',
    ['-tt', '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'PreferredAuthentications=password,keyboard-interactive', '-o', 'NumberOfPasswordPrompts=1', '-o', 'ConnectTimeout=5', ...extra, `${username}@127.0.0.1`],
    { env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  const conv = new Conversation(
    (t) => child.stdin.write(t),
    () => child.kill(),
  ) as Conversation & { stderr(): string };
  conv.stderr = () => stderr;
  child.stdout.on('data', (d: Buffer) => conv.push(d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.on('close', () => conv.markClosed());
  return conv;
}

/** Runs a Python 3 script (telnetlib as a second Telnet client); resolves its stdout. */
export async function python(script: string, timeoutMs = 10000): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const child = spawn('python3', ['-W', 'ignore', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill(), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, status });
    });
  });
}

/** Whether telnetlib exists in this Python (removed in 3.13). */
export function hasTelnetlib(): boolean {
  return available('python3', ['-W', 'ignore', '-c', 'import telnetlib']);
}

/** A device's Telnet login prompts, as it prints them. */
export interface TelnetPrompts {
  readonly user: string;
  readonly password: string;
}

/** Types a user name and a password at the device's Telnet prompts (lines end with "\r"); returns what came back up to `until`. */
async function typeLogin(c: Conversation, prompts: TelnetPrompts, username: string, password: string, until: RegExp | string): Promise<string> {
  await c.expect(prompts.user);
  c.send(`${username}\r`);
  await c.expect(prompts.password);
  c.send(`${password}\r`);
  return c.expect(until);
}

/** Logs in over Telnet at the device's prompts and waits for `until`. */
export async function telnetLogin(port: number, prompts: TelnetPrompts, username: string, password: string, until: RegExp | string): Promise<TelnetConversation> {
  const c = await telnet(port);
  await typeLogin(c, prompts, username, password, until);
  return c;
}

/** Whether a fresh Telnet login reaches the `ready` prompt; false when the device prints `refused` instead. */
export async function telnetLoginWorks(port: number, prompts: TelnetPrompts, username: string, password: string, answers: { readonly ready: RegExp; readonly refused: RegExp }): Promise<boolean> {
  const c = await telnet(port);
  try {
    const after = await typeLogin(c, prompts, username, password, new RegExp(`${answers.ready.source}|${answers.refused.source}`));
    return answers.ready.test(after);
  } finally {
    c.end();
  }
}

/** Whether a fresh SSH login is accepted and shows `prompt`; false only when SSH authentication refuses it (any other failure throws). */
export async function sshLoginWorks(port: number, username: string, password: string, prompt: RegExp | string): Promise<boolean> {
  let c: Conversation;
  try {
    c = await sshShell(port, { username, password });
  } catch (e) {
    if ((e as { level?: string }).level === 'client-authentication') return false;
    throw e;
  }
  try {
    await c.expect(prompt);
    return true;
  } finally {
    c.end();
  }
}
