/**
 * A simulator of the shells of AIX, HP-UX, Solaris, macOS and ESXi behind their OpenSSH servers,
 * for the Unix adapter's built-in command sets where the real Linux test server has no such
 * command (Debian's `chpasswd -c` means `--crypt-method`; its `passwd` prints Linux's words).
 * There is no host of these systems in the test environment; the support matrix says "simulator".
 * What each system prints is in ./systems.ts, with the manual pages it comes from.
 *
 * Shell: a small POSIX shell (the vendors' ksh, bash, zsh and busybox ash agree on what it takes):
 * words with '…', "…" and \ quoting, `$NAME` in words, `NAME=value` prefixes, `;`, `&&`, `||`;
 * builtins `printf` (%s %d %%, \n \t \\), `stty [-]echo`, `export`, `exec`, `exit`, `true`,
 * `false`, `id -un`, `sh -c`. Pipes and redirections are not simulated and are recorded in
 * `unexpected`, as is any command the system would not find (the shell prints its "not found", 127).
 *
 * Programs, as their manual pages document them:
 * - `passwd [USER]`: as root, the new password twice (AIX's passwd and pwdadm set ADMCHG); as the
 *   user, the old password then the new one twice, held to the system's length rule; a mismatch
 *   or a refused password asks again, `tries` times in all; a wrong old password ends it (exit 1).
 * - AIX `chpasswd [-R module] [-e] [-f flags | -c]`: "user:password" lines on standard input
 *   until EOF, root only; sets ADMCHG unless -c (clears every flag) or -f (sets those flags).
 * - AIX `pwdadm [-R module] {-f flags | -q | -c} user | pwdadm user`.
 * - `su [-] [user] [-c command]`: the target user's password at the system's prompt.
 * - `sudo [-S] [-k] [-p prompt] command`: the caller's own password, three tries; callers not
 *   in sudoers are refused; absent on ESXi.
 * A terminal (pty request) echoes what is typed unless `stty -echo`, never echoes a password read
 * at a prompt, turns CR into LF, takes Ctrl-C (exit 130) and Ctrl-D at the start of a line (EOF),
 * and turns LF into CRLF on output. Without a terminal, standard input is the channel until EOF
 * and standard error is the channel's stderr.
 *
 * Logins: password authentication against the accounts; a login whose password carries AIX's
 * ADMCHG flag gets what OpenSSH's do_pwchange() prints and exit status 1, so a fresh login proves
 * a password only if it may be used.
 */
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import ssh2, { type AuthContext, type Connection, type ServerChannel } from 'ssh2';
import { ed25519KeyPair } from '../../support/ssh-keys.js';
import { SYSTEMS, type SystemName, type SystemTexts } from './systems.js';

const { Server } = ssh2;

export interface Account {
  readonly name: string;
  password: string;
  /** AIX password flags (ADMCHG, ADMIN, NOCHECK); empty elsewhere. */
  flags: Set<string>;
  /** Listed in sudoers ("ALL=(ALL) ALL"). */
  sudoer: boolean;
  lastUpdate: number;
}

export interface ExecRecord {
  readonly login: string;
  readonly command: string;
  readonly pty: boolean;
}

class Interrupt extends Error {}
class ExitShell extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** A channel's input, by lines, as a terminal or a pipe delivers it. */
class Input {
  #buf = '';
  #lines: (string | null)[] = [];
  #eof = false;
  #interrupted = false;
  #wake: (() => void) | undefined;
  echo = true;
  readonly #pty: boolean;
  readonly #write: (text: string) => void;
  #readingSecret = false;
  readonly #decoder = new StringDecoder('utf8');

  constructor(pty: boolean, write: (text: string) => void) {
    this.#pty = pty;
    this.#write = write;
  }

  push(chunk: Buffer): void {
    const text = this.#decoder.write(chunk);
    if (!this.#pty) {
      this.#buf += text;
      let i;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        this.#lines.push(this.#buf.slice(0, i));
        this.#buf = this.#buf.slice(i + 1);
      }
    } else {
      for (const ch of text) {
        if (ch === '\x03') {
          this.#interrupted = true;
          this.#buf = '';
          this.#write('^C\n');
        } else if (ch === '\x04') {
          if (this.#buf === '') this.#lines.push(null);
          else {
            this.#lines.push(this.#buf);
            this.#buf = '';
          }
        } else if (ch === '\r' || ch === '\n') {
          this.#lines.push(this.#buf);
          this.#buf = '';
          if (this.echo && !this.#readingSecret) this.#write('\n');
        } else {
          this.#buf += ch;
          if (this.echo && !this.#readingSecret) this.#write(ch);
        }
      }
    }
    this.#wake?.();
  }

  end(): void {
    this.#eof = true;
    this.#wake?.();
  }

  /** The next line without its end; null at EOF. A password prompt reads with echo off, as getpass(3) does. */
  async readLine(options: { secret?: boolean } = {}): Promise<string | null> {
    this.#readingSecret = options.secret === true;
    try {
      for (;;) {
        if (this.#interrupted) {
          this.#interrupted = false;
          throw new Interrupt();
        }
        if (this.#lines.length > 0) {
          const line = this.#lines.shift()!;
          if (options.secret && this.#pty) this.#write('\n');
          return line;
        }
        if (this.#eof) {
          if (this.#buf) {
            const rest = this.#buf;
            this.#buf = '';
            return rest;
          }
          return null;
        }
        await new Promise<void>((resolve) => {
          this.#wake = () => {
            this.#wake = undefined;
            resolve();
          };
        });
      }
    } finally {
      this.#readingSecret = false;
    }
  }
}

interface Io {
  readonly input: Input;
  out(text: string): void;
  err(text: string): void;
}

interface ShellState {
  user: Account;
  readonly env: Map<string, string>;
  readonly shell: string;
}

export interface SimulatorOptions {
  readonly system: SystemName;
  /**
   * macOS passwd(1): "This account's current password might be required, even when run as the
   * super-user, depending on the directory system." With this, `passwd USER` as root asks for it.
   */
  readonly rootAsksCurrentPassword?: boolean;
}

export class UnixShellSimulator {
  readonly host = '127.0.0.1';
  readonly system: SystemName;
  readonly texts: SystemTexts;
  readonly accounts = new Map<string, Account>();
  readonly execs: ExecRecord[] = [];
  /** What the simulator does not know how the system would take: tests assert it stays empty. */
  readonly unexpected: string[] = [];
  readonly logins: { login: string; accepted: boolean }[] = [];
  /** Every program run (name and argv), for tests that check no password went on a command line. */
  readonly programs: string[][] = [];
  readonly hostKeySha256: string;
  readonly #server: InstanceType<typeof Server>;
  readonly #clients = new Set<Connection>();
  readonly #options: SimulatorOptions;
  #port = 0;

  private constructor(options: SimulatorOptions) {
    this.#options = options;
    this.system = options.system;
    this.texts = SYSTEMS[options.system];
    const keys = ed25519KeyPair();
    this.hostKeySha256 = keys.sha256;
    this.#server = new Server({ hostKeys: [keys.private], ident: this.texts.ident }, (client) => this.#onClient(client));
    this.add('root', `root-${Math.random()}`);
  }

  static async start(options: SimulatorOptions): Promise<UnixShellSimulator> {
    const sim = new UnixShellSimulator(options);
    await new Promise<void>((resolve) => sim.#server.listen(0, '127.0.0.1', () => resolve()));
    sim.#port = (sim.#server.address() as { port: number }).port;
    return sim;
  }

  get port(): number {
    return this.#port;
  }

  add(name: string, password: string, options: { sudoer?: boolean } = {}): Account {
    const account: Account = { name, password, flags: new Set(), sudoer: options.sudoer ?? false, lastUpdate: 0 };
    this.accounts.set(name, account);
    return account;
  }

  /** Every command line, as one text (for the leak search). */
  commandText(): string {
    return [...this.execs.map((e) => e.command), ...this.programs.map((p) => p.join(' '))].join('\n');
  }

  dropAll(): void {
    for (const c of this.#clients) (c as unknown as { _sock: Socket })._sock.destroy();
  }

  async close(): Promise<void> {
    for (const c of this.#clients) c.end();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ SSH

  #onClient(client: Connection): void {
    this.#clients.add(client);
    (client as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
    client.on('close', () => this.#clients.delete(client));
    client.on('error', () => undefined);
    let caller: Account | undefined;
    client.on('authentication', (ctx: AuthContext) => {
      if (ctx.method !== 'password') return ctx.reject(['password']);
      const account = this.accounts.get(ctx.username);
      const accepted = account !== undefined && account.password === ctx.password;
      this.logins.push({ login: ctx.username, accepted });
      if (!accepted) return ctx.reject(['password']);
      caller = account;
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        let pty = false;
        session.on('pty', (accept) => {
          pty = true;
          accept?.();
        });
        session.on('env', (accept) => accept?.());
        session.on('shell', (accept) => void this.#run(accept(), caller!, undefined, pty));
        session.on('exec', (accept, _reject, info) => void this.#run(accept(), caller!, info.command, pty));
      });
    });
  }

  async #run(channel: ServerChannel, caller: Account, command: string | undefined, pty: boolean): Promise<void> {
    const crlf = (t: string) => (pty ? t.replace(/\r?\n/g, '\r\n') : t);
    const write = (t: string) => {
      if (channel.writable) channel.write(Buffer.from(crlf(t), 'utf8'));
    };
    const input = new Input(pty, write);
    channel.on('data', (chunk: Buffer) => input.push(chunk));
    channel.on('end', () => input.end());
    const io: Io = { input, out: write, err: (t) => (pty ? write(t) : channel.stderr.write(Buffer.from(t, 'utf8'))) };
    this.execs.push({ login: caller.name, command: command ?? '(shell)', pty });
    let code: number;
    if (caller.flags.has('ADMCHG')) {
      // OpenSSH session.c do_pwchange(): the password must be changed before the account is used.
      io.err('WARNING: Your password has expired.\n');
      io.err(pty ? 'You must change your password now and login again!\n' : 'Password change required but no TTY available.\n');
      code = 1;
    } else {
      const state: ShellState = { user: caller, env: new Map(), shell: this.#shellName() };
      try {
        code = command === undefined ? await this.#interactive(state, io) : await this.#script(command, state, io);
      } catch (e) {
        if (e instanceof ExitShell) code = e.code;
        else if (e instanceof Interrupt) code = 130;
        else throw e;
      }
    }
    if (channel.writable) {
      channel.exit(code);
      channel.end();
    }
  }

  #shellName(): string {
    return { aix: 'ksh', 'hp-ux': 'sh', solaris: 'bash', macos: 'zsh', esxi: 'sh' }[this.system];
  }

  async #interactive(state: ShellState, io: Io): Promise<number> {
    let code = 0;
    for (;;) {
      io.out(state.user.name === 'root' ? '# ' : '$ ');
      const line = await io.input.readLine();
      if (line === null) return code;
      try {
        code = await this.#script(line, state, io);
      } catch (e) {
        if (e instanceof Interrupt) code = 130;
        else throw e;
      }
    }
  }

  // ------------------------------------------------------------------ shell

  /** Runs a command line: lists joined by `;`, `&&` and `||`, each expanded when it runs. */
  async #script(text: string, state: ShellState, io: Io): Promise<number> {
    const list = splitList(text);
    if ('error' in list) return this.#syntax(list.error, text, state, io);
    let code = 0;
    let skip = false;
    for (const { command, op } of list.list) {
      if (!skip) {
        const tokens = tokenize(command, state.env);
        if ('error' in tokens) return this.#syntax(tokens.error, text, state, io);
        const words = tokens.list.map((t) => t.word!);
        if (words.length) code = await this.#command(words, state, io);
      }
      skip = op === '&&' ? code !== 0 : op === '||' ? code === 0 : false;
    }
    return code;
  }

  #syntax(error: string, text: string, state: ShellState, io: Io): number {
    this.unexpected.push(`${error}: ${text}`);
    io.err(`${state.shell}: syntax error\n`);
    return 2;
  }

  async #command(argv: string[], state: ShellState, io: Io): Promise<number> {
    // NAME=value prefixes
    const env = new Map(state.env);
    while (argv.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0]!)) {
      const a = argv.shift()!;
      const i = a.indexOf('=');
      env.set(a.slice(0, i), a.slice(i + 1));
    }
    if (!argv.length) {
      for (const [k, v] of env) state.env.set(k, v);
      return 0;
    }
    const local: ShellState = { ...state, env };
    const [name, ...args] = argv as [string, ...string[]];
    const base = name.split('/').pop()!;
    switch (name) {
      case 'exec': {
        const code = args.length ? await this.#command(args, local, io) : 0;
        throw new ExitShell(code);
      }
      case 'exit':
        throw new ExitShell(Number(args[0] ?? 0));
      case 'true':
        return 0;
      case 'false':
        return 1;
      case 'export':
        for (const a of args) {
          const i = a.indexOf('=');
          if (i > 0) state.env.set(a.slice(0, i), a.slice(i + 1));
        }
        return 0;
      case 'printf':
        io.out(printf(args));
        return 0;
      case 'stty':
        for (const a of args) {
          if (a === '-echo') io.input.echo = false;
          else if (a === 'echo') io.input.echo = true;
          else this.unexpected.push(`stty ${a}`);
        }
        return 0;
    }
    this.programs.push(argv);
    if (!this.#exists(name)) {
      io.err(`${this.texts.notFound(state.shell, name)}\n`);
      this.unexpected.push(`the shell was asked to run ${JSON.stringify(name)}`);
      return 127;
    }
    switch (base) {
      case 'id':
        io.out(args.includes('-un') ? `${state.user.name}\n` : `uid=${state.user.name === 'root' ? 0 : 1000}(${state.user.name})\n`);
        return 0;
      case 'sh':
        if (args[0] === '-c' && args[1] !== undefined) return this.#script(args[1], local, io);
        this.unexpected.push(`sh ${args.join(' ')}`);
        return 2;
      case 'su':
        return this.#su(args, local, io);
      case 'sudo':
        return this.#sudo(args, local, io);
      case 'passwd':
        return this.#passwd(args, local, io);
      case 'chpasswd':
        return this.#chpasswd(args, local, io);
      case 'pwdadm':
        return this.#pwdadm(args, local, io);
    }
    return 127;
  }

  /** Where each system keeps its programs (a bare name is looked up on PATH). */
  #exists(name: string): boolean {
    const paths: Record<string, readonly string[]> = {
      passwd: ['/usr/bin/passwd', '/bin/passwd'],
      su: ['/usr/bin/su', '/bin/su'],
      sudo: this.texts.sudo ? ['/usr/bin/sudo', '/opt/freeware/bin/sudo', '/usr/local/bin/sudo'] : [],
      id: ['/usr/bin/id', '/bin/id'],
      sh: ['/bin/sh', '/usr/bin/sh'],
      chpasswd: this.system === 'aix' ? ['/usr/bin/chpasswd'] : [],
      pwdadm: this.system === 'aix' ? ['/usr/bin/pwdadm'] : [],
    };
    const base = name.split('/').pop()!;
    const known = paths[base];
    if (!known || known.length === 0) return false;
    return name.includes('/') ? known.includes(name) : true;
  }

  // ------------------------------------------------------------------ su, sudo

  async #su(args: string[], state: ShellState, io: Io): Promise<number> {
    let target = 'root';
    let command: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-' || a === '-l') continue;
      if (a === '-c') command = args[++i];
      else if (!a.startsWith('-')) target = a;
      else this.unexpected.push(`su ${a}`);
    }
    const account = this.accounts.get(target);
    if (state.user.name !== 'root') {
      io.out(this.texts.suPrompt);
      const given = await io.input.readLine({ secret: true });
      if (given === null || !account || given !== account.password) {
        io.err(`${this.texts.suRefused}\n`);
        return 1;
      }
    }
    if (!account) return 1;
    const inner: ShellState = { user: account, env: new Map(state.env), shell: this.#shellName() };
    if (command === undefined) return this.#interactive(inner, io);
    try {
      return await this.#script(command, inner, io);
    } catch (e) {
      if (e instanceof ExitShell) return e.code;
      throw e;
    }
  }

  async #sudo(args: string[], state: ShellState, io: Io): Promise<number> {
    let stdin = false;
    let prompt = this.texts.sudoPrompt(state.user.name);
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-S') stdin = true;
      else if (a === '-k') continue;
      else if (a === '-p') prompt = args[++i] ?? '';
      else if (a === '--') {
        i++;
        break;
      } else if (a.startsWith('-')) this.unexpected.push(`sudo ${a}`);
      else break;
    }
    const command = args.slice(i);
    if (!command.length) {
      io.err('usage: sudo -h | -K | -k | -V\n');
      return 1;
    }
    if (!state.user.sudoer && state.user.name !== 'root') {
      // The password is asked first, then the lecture (sudo 1.9).
      io.err(prompt);
      await io.input.readLine({ secret: true });
      io.err(`${state.user.name} is not in the sudoers file.  This incident will be reported.\n`);
      return 1;
    }
    if (state.user.name !== 'root') {
      let wrong = 0;
      for (;;) {
        io.err(prompt);
        void stdin; // with or without -S, the password is one line of input here
        const given = await io.input.readLine({ secret: true });
        if (given === null) {
          io.err(wrong ? `sudo: ${wrong} incorrect password attempt${wrong > 1 ? 's' : ''}\n` : 'sudo: no password was provided\n');
          return 1;
        }
        if (given === state.user.password) break;
        wrong++;
        if (wrong === 3) {
          io.err('sudo: 3 incorrect password attempts\n');
          return 1;
        }
        io.err('Sorry, try again.\n');
      }
    }
    const root = this.accounts.get('root')!;
    return this.#command(command, { user: root, env: state.env, shell: state.shell }, io);
  }

  // ------------------------------------------------------------------ passwd, chpasswd, pwdadm

  async #passwd(args: string[], state: ShellState, io: Io): Promise<number> {
    const t = this.texts;
    const names = args.filter((a) => !a.startsWith('-'));
    for (const a of args.filter((x) => x.startsWith('-'))) this.unexpected.push(`passwd ${a}`);
    const name = names[0] ?? state.user.name;
    const asRoot = state.user.name === 'root';
    if (!asRoot && name !== state.user.name) {
      io.err(`${t.notAllowed(name)}\n`);
      return 1;
    }
    const account = this.accounts.get(name);
    if (!account) {
      io.err(`${t.unknownUser(name)}\n`);
      return 1;
    }
    const self = !asRoot;
    if (self || (this.#options.rootAsksCurrentPassword && name !== 'root')) {
      io.out(`${self || !t.rootHeader ? t.selfHeader(name) : t.rootHeader(name)}\n`);
      io.out(t.selfOld(name));
      const old = await io.input.readLine({ secret: true });
      if (old === null || old !== account.password) {
        io.err(`${t.wrongOld}\n`);
        return 1;
      }
    } else if (t.rootHeader) io.out(`${t.rootHeader(name)}\n`);
    const [first, second] = self ? t.selfPrompts(name) : t.rootPrompts(name);
    for (let attempt = 1; ; attempt++) {
      io.out(first);
      const a = await io.input.readLine({ secret: true });
      if (a === null) return 1;
      const refusal = this.#quality(a, account, self);
      if (refusal) io.err(`${refusal}\n`);
      else {
        io.out(second);
        const b = await io.input.readLine({ secret: true });
        if (b === null) return 1;
        if (a === b) {
          this.#set(account, a, t.rootChangeSetsAdmchg && !self ? ['ADMCHG'] : []);
          const done = self ? t.selfSuccess : t.rootSuccess;
          if (done) io.out(`${done(name)}\n`);
          return 0;
        }
        io.err(`${t.mismatch}\n`);
      }
      if (attempt === t.tries) {
        io.err(`${t.exhausted}\n`);
        return 1;
      }
    }
  }

  #quality(password: string, account: Account, self: boolean): string | undefined {
    const t = this.texts;
    // The manuals state the rule without the words passwd prints for it: these are assumed.
    if (t.sevenBit && /[^\x20-\x7e]/.test(password)) return 'passwd: Characters must be from the 7-bit US-ASCII character set.';
    if (self && account.flags.has('NOCHECK') === false && [...password].length < t.minLength) return t.tooShort(t.minLength);
    return undefined;
  }

  #set(account: Account, password: string, flags: string[]): void {
    account.password = password;
    account.flags = new Set(flags);
    account.lastUpdate = Math.floor(Date.now() / 1000);
  }

  async #chpasswd(args: string[], state: ShellState, io: Io): Promise<number> {
    let flags: string[] | undefined = ['ADMCHG'];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-c') flags = [];
      else if (a === '-f') flags = (args[++i] ?? '').split(',').filter(Boolean);
      else if (a === '-R') i++;
      else if (a === '-e') this.unexpected.push('chpasswd -e (encrypted passwords are not simulated)');
      else {
        io.err(`chpasswd: Not a recognized flag: ${a.replace(/^-/, '')}\nchpasswd [-R load_module] [-e] [ -f flags | -c ]\n`);
        return 1;
      }
    }
    if (state.user.name !== 'root') {
      io.err('chpasswd: Only root users can set passwords with this command.\n'); // assumed wording
      return 1;
    }
    let failed = false;
    for (;;) {
      const line = await io.input.readLine();
      if (line === null) break;
      if (line === '') continue;
      const i = line.indexOf(':');
      const name = i < 0 ? line : line.slice(0, i);
      const account = this.accounts.get(name);
      if (i < 0 || !account) {
        io.err(`${this.texts.unknownUser(name)}\n`);
        failed = true;
        continue;
      }
      const password = line.slice(i + 1);
      if (/[^\x20-\x7e]/.test(password)) {
        io.err(`3004-709 Error changing password for "${name}".\n`); // assumed wording: 7-bit only
        failed = true;
        continue;
      }
      this.#set(account, password, flags ?? []);
    }
    return failed ? 1 : 0;
  }

  async #pwdadm(args: string[], state: ShellState, io: Io): Promise<number> {
    let mode: 'change' | 'query' | 'clear' | 'flags' = 'change';
    let flags: string[] = [];
    let name: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-q') mode = 'query';
      else if (a === '-c') mode = 'clear';
      else if (a === '-f') {
        mode = 'flags';
        flags = (args[++i] ?? '').split(',').filter(Boolean);
      } else if (a === '-R') i++;
      else name = a;
    }
    if (!name) {
      io.err('Usage: pwdadm [-R load_module] [ -f flags | -q | -c ] user\n');
      return 1;
    }
    if (state.user.name !== 'root') {
      io.err(`${this.texts.notAllowed(name)}\n`);
      return 1;
    }
    const account = this.accounts.get(name);
    if (!account) {
      io.err(`${this.texts.unknownUser(name)}\n`);
      return 1;
    }
    if (mode === 'query') {
      io.out(`${name}: \n\tlastupdate = ${account.lastUpdate}\n${account.flags.size ? `\tflags = ${[...account.flags].join(',')}\n` : ''}`);
      return 0;
    }
    if (mode === 'clear') {
      account.flags = new Set();
      return 0;
    }
    if (mode === 'flags') {
      account.flags = new Set(flags);
      return 0;
    }
    // "The invoker of the command must provide a password when queried."
    io.out(`Changing password for "${name}"\n`);
    io.out(`${state.user.name}'s Password: `);
    const invoker = await io.input.readLine({ secret: true });
    if (invoker === null || invoker !== state.user.password) {
      io.err(`${this.texts.suRefused}\n`);
      return 1;
    }
    const [first, second] = this.texts.rootPrompts(name);
    io.out(first);
    const a = await io.input.readLine({ secret: true });
    io.out(second);
    const b = await io.input.readLine({ secret: true });
    if (a === null || b === null || a !== b) {
      io.err(`${this.texts.mismatch}\n`);
      return 1;
    }
    this.#set(account, a, account.flags.has('NOCHECK') ? [...account.flags] : ['ADMCHG']);
    return 0;
  }
}

// ------------------------------------------------------------------ words

type Token = { word: string; op?: undefined } | { op: ';' | '&&' | '||'; word?: undefined };

/** Splits a command line at `;`, `&&` and `||` outside quotes, keeping each command's text for expansion when it runs. */
export function splitList(text: string): { list: { command: string; op?: ';' | '&&' | '||' }[] } | { error: string } {
  const list: { command: string; op?: ';' | '&&' | '||' }[] = [];
  let start = 0;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === "'") {
      const j = text.indexOf("'", i + 1);
      if (j < 0) return { error: 'an unterminated single quote' };
      i = j + 1;
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      if (i >= text.length) return { error: 'an unterminated double quote' };
      i++;
    } else if (c === '\\') i += 2;
    else if (c === ';' || text.startsWith('&&', i) || text.startsWith('||', i)) {
      const op = c === ';' ? ';' : (text.slice(i, i + 2) as '&&' | '||');
      list.push({ command: text.slice(start, i), op });
      i += op.length;
      start = i;
    } else i++;
  }
  list.push({ command: text.slice(start) });
  return { list };
}

/** POSIX shell words: quotes, backslashes, $NAME; the operators ; && ||. */
export function tokenize(text: string, env: ReadonlyMap<string, string>): { list: Token[] } | { error: string } {
  const list: Token[] = [];
  let word = '';
  let inWord = false;
  const end = () => {
    if (inWord) list.push({ word });
    word = '';
    inWord = false;
  };
  const variable = (i: number): [string, number] => {
    const m = /^\$([A-Za-z_][A-Za-z0-9_]*|\?)/.exec(text.slice(i));
    if (!m) return ['$', i + 1];
    return [env.get(m[1]!) ?? '', i + m[0].length];
  };
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === "'") {
      const j = text.indexOf("'", i + 1);
      if (j < 0) return { error: 'an unterminated single quote' };
      word += text.slice(i + 1, j);
      inWord = true;
      i = j + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      for (;;) {
        if (i >= text.length) return { error: 'an unterminated double quote' };
        const d = text[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && '$`"\\\n'.includes(text[i + 1] ?? '')) {
          word += text[i + 1];
          i += 2;
        } else if (d === '$') {
          const [v, next] = variable(i);
          word += v;
          i = next;
        } else if (d === '`') return { error: 'command substitution' };
        else {
          word += d;
          i++;
        }
      }
    } else if (c === '\\') {
      word += text[i + 1] ?? '';
      inWord = true;
      i += 2;
    } else if (c === '$') {
      if (text[i + 1] === '(') return { error: 'command substitution' };
      const [v, next] = variable(i);
      word += v;
      inWord = true;
      i = next;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      end();
      i++;
    } else if (c === ';') {
      end();
      list.push({ op: ';' });
      i++;
    } else if (text.startsWith('&&', i) || text.startsWith('||', i)) {
      end();
      list.push({ op: text.slice(i, i + 2) as '&&' | '||' });
      i += 2;
    } else if ('|&<>`()'.includes(c)) {
      return { error: `${JSON.stringify(c)} (pipes, redirections, background jobs and subshells are not simulated)` };
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  end();
  return { list };
}

/** printf(1) for %s, %d, %% and the escapes \n, \t, \\; the format is reused while arguments remain. */
export function printf(args: readonly string[]): string {
  const [format = '', ...rest] = args;
  let out = '';
  let k = 0;
  do {
    for (let i = 0; i < format.length; i++) {
      const c = format[i]!;
      if (c === '\\') {
        const n = format[++i];
        out += n === 'n' ? '\n' : n === 't' ? '\t' : n === '\\' ? '\\' : `\\${n ?? ''}`;
      } else if (c === '%') {
        const n = format[++i];
        if (n === '%') out += '%';
        else if (n === 's') out += rest[k++] ?? '';
        else if (n === 'd') out += String(Number.parseInt(rest[k++] ?? '0', 10) || 0);
        else out += `%${n ?? ''}`;
      } else out += c;
    }
  } while (k > 0 && k < rest.length);
  return out;
}
