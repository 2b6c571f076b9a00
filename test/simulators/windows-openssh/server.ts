/**
 * A simulator of a Windows host's OpenSSH server, for the `windows` adapter's tests. There is no
 * Windows host in the test environment; this stands in for one, written from Microsoft's
 * documentation of what the adapter uses, and it is marked "simulated" in the support matrix.
 *
 * - OpenSSH for Windows runs an exec request with the default shell, cmd.exe unless
 *   HKLM\SOFTWARE\OpenSSH\DefaultShell names another ("OpenSSH Server configuration for Windows",
 *   learn.microsoft.com; Win32-OpenSSH wiki "DefaultShell"). Here: cmd.exe. Password logins only;
 *   domain accounts log in as DOMAIN\user or user@domain (Win32-OpenSSH wiki "ssh.exe examples"),
 *   or by a bare name that is not also a local account's.
 * - cmd.exe: runs `powershell.exe` and `net` and answers anything else with
 *   "'X' is not recognized as an internal or external command, operable program or batch file."
 *   (exit status 9009). `^` outside double quotes escapes the next character; `& | < >` outside
 *   quotes would start another command, which this simulator records as unexpected.
 * - powershell.exe -NoProfile -NonInteractive -EncodedCommand <base64 of UTF-16LE text>
 *   (about_PowerShell_exe). The script is interpreted statement by statement; only the statements
 *   listed in `PowerShell#statement` are known, anything else is "The term 'X' is not recognized as
 *   the name of a cmdlet, ..." (CommandNotFoundException) and recorded as unexpected.
 *   Standard input: `[Console]::In` decodes with [Console]::InputEncoding, the OEM code page (437)
 *   unless the script set it to UTF-8; a StreamReader the script opens over
 *   [Console]::OpenStandardInput() with UTF8Encoding decodes UTF-8. So a script that relies on the
 *   console's default encoding loses non-ASCII passwords here as it would on Windows.
 * - ConvertTo-SecureString -String S -AsPlainText -Force (Microsoft.PowerShell.Security): a null or
 *   empty S is a parameter binding error.
 * - Set-LocalUser -Name N -Password P (Microsoft.PowerShell.LocalAccounts): errors
 *   UserNotFound (ObjectNotFound, UserNotFoundException, "User N was not found."),
 *   InvalidPassword (InvalidArgument, InvalidPasswordException, "Unable to update the password. The
 *   value provided for the new password does not meet the length, complexity, or history
 *   requirements of the domain."), AccessDenied (PermissionDenied, AccessDeniedException, "Access denied.").
 * - net user NAME * (Windows Commands, "Net user"): prompts "Type a password for the user:" and
 *   "Retype the password to confirm:", asks to confirm a password longer than 14 characters, and
 *   answers "The command completed successfully.", NET HELPMSG 2221 (user name not found),
 *   2245 (password policy) or "System error 5 has occurred. Access is denied.".
 *
 * Every exec command line is recorded (`execs`, with the decoded PowerShell script), so tests can
 * assert that no password ever appears on one. Faults: drop the connection just after a change was
 * applied, or just before it would be.
 */
import type { Socket } from 'node:net';
import ssh2, { type AuthContext, type Connection, type ServerChannel } from 'ssh2';
import { ed25519KeyPair } from '../../support/ssh-keys.js';
import { Domain, Sam, type PasswordPolicy, type SamUser } from './sam.js';

const { Server } = ssh2;

export interface ExecRecord {
  /** The login name the client gave. */
  readonly login: string;
  readonly command: string;
  readonly pty: boolean;
  /** The script of a powershell.exe -EncodedCommand, decoded. */
  readonly script?: string;
}

export interface SimulatorOptions {
  /** `available` (default), `no-set-localuser` (PowerShell without the LocalAccounts module), or `absent`. */
  readonly powershell?: 'available' | 'no-set-localuser' | 'absent';
  readonly policy?: Partial<PasswordPolicy>;
  /** Makes the host domain-joined. */
  readonly domain?: { readonly netbios: string; readonly dns: string };
  /**
   * The shell OpenSSH runs an exec request with: `cmd` (the default) or `powershell` (the
   * DefaultShell registry value set to powershell.exe, which then runs `powershell.exe -c <command>`).
   */
  readonly defaultShell?: 'cmd' | 'powershell';
}

export interface Faults {
  /** The next N changes are applied, then the connection is dropped before their result is written. */
  dropAfterChange: number;
  /** The next N changes are not applied: the connection is dropped when they would be. */
  dropBeforeChange: number;
}

interface Caller {
  readonly login: string;
  readonly admin: boolean;
}

class Dropped extends Error {}

/** The upper half of code page 437, the OEM code page of an en-US Windows console. */
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';
if ([...CP437_HIGH].length !== 128) throw new Error('CP437 table must have 128 characters');

function decodeOem(bytes: Buffer): string {
  let s = '';
  for (const b of bytes) s += b < 0x80 ? String.fromCharCode(b) : [...CP437_HIGH][b - 0x80]!;
  return s;
}

/** A command's standard input: bytes from the channel, read by lines. */
class Input {
  #buf = Buffer.alloc(0);
  #eof = false;
  #afterCr = false;
  #wake: (() => void) | undefined;

  push(chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    this.#wake?.();
  }

  end(): void {
    this.#eof = true;
    this.#wake?.();
  }

  /** Bytes up to a CR, LF or CRLF (as .NET's ReadLine and a console's Enter end a line); null at EOF. */
  async readLine(): Promise<Buffer | null> {
    for (;;) {
      // The LF of a CRLF whose CR ended the previous line.
      if (this.#afterCr && this.#buf.length > 0) {
        if (this.#buf[0] === 0x0a) this.#buf = this.#buf.subarray(1);
        this.#afterCr = false;
      }
      const i = this.#buf.findIndex((b) => b === 0x0a || b === 0x0d);
      if (i >= 0) {
        const line = this.#buf.subarray(0, i);
        const crlf = this.#buf[i] === 0x0d && this.#buf[i + 1] === 0x0a;
        this.#afterCr = this.#buf[i] === 0x0d && i + 1 === this.#buf.length;
        this.#buf = this.#buf.subarray(i + (crlf ? 2 : 1));
        return line;
      }
      if (this.#eof) {
        if (this.#buf.length === 0) return null;
        const line = this.#buf;
        this.#buf = Buffer.alloc(0);
        return line;
      }
      await this.#wait();
    }
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

interface Io {
  readonly input: Input;
  out(text: string): void;
  err(text: string): void;
}

/** What a PowerShell error record says. */
class PsError extends Error {
  constructor(
    readonly errorId: string,
    readonly category: string,
    readonly exceptionType: string,
    message: string,
  ) {
    super(message);
  }
}

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

const NOT_RECOGNIZED_PS = (term: string) =>
  `The term '${term}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`;

export class WindowsOpenSshSimulator {
  readonly host = '127.0.0.1';
  readonly sam: Sam;
  readonly domain: Domain | undefined;
  readonly execs: ExecRecord[] = [];
  /** Requests the simulator does not know how Windows would take: tests assert this stays empty. */
  readonly unexpected: string[] = [];
  /** Every login attempt: the name given and whether it was accepted. */
  readonly logins: { login: string; accepted: boolean }[] = [];
  readonly faults: Faults = { dropAfterChange: 0, dropBeforeChange: 0 };
  readonly hostKeySha256: string;
  readonly #options: SimulatorOptions;
  readonly #server: InstanceType<typeof Server>;
  readonly #clients = new Set<Connection>();
  #port = 0;

  private constructor(options: SimulatorOptions) {
    this.#options = options;
    this.sam = new Sam(options.policy);
    this.domain = options.domain ? new Domain(options.domain.netbios, options.domain.dns) : undefined;
    const keys = ed25519KeyPair();
    this.hostKeySha256 = keys.sha256;
    this.#server = new Server({ hostKeys: [keys.private], ident: 'OpenSSH_for_Windows_8.1' }, (client) => this.#onClient(client));
  }

  static async start(options: SimulatorOptions = {}): Promise<WindowsOpenSshSimulator> {
    const sim = new WindowsOpenSshSimulator(options);
    await new Promise<void>((resolve) => sim.#server.listen(0, '127.0.0.1', () => resolve()));
    sim.#port = (sim.#server.address() as { port: number }).port;
    return sim;
  }

  get port(): number {
    return this.#port;
  }

  /** The password of a local account now, for tests that look inside (most tests log in instead). */
  passwordOf(name: string): string | undefined {
    return this.sam.get(name)?.password;
  }

  /** Every command line and decoded script, as one text (for the leak search). */
  commandText(): string {
    return this.execs.map((e) => `${e.command}\n${e.script ?? ''}`).join('\n');
  }

  /** Drops every SSH connection at once, as a network failure or an idle timeout would. */
  dropAll(): void {
    for (const c of this.#clients) (c as unknown as { _sock: Socket })._sock.destroy();
  }

  async close(): Promise<void> {
    for (const c of this.#clients) c.end();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ------------------------------------------------------------------ SSH

  #resolve(login: string): { user: SamUser; admin: boolean } | undefined {
    const d = this.domain;
    const backslash = login.indexOf('\\');
    if (backslash >= 0) {
      const [dom, name] = [login.slice(0, backslash), login.slice(backslash + 1)];
      if (d && (dom.toLowerCase() === d.netbios.toLowerCase() || dom.toLowerCase() === d.dns.toLowerCase())) return wrap(d.users.get(name.toLowerCase()));
      return undefined;
    }
    const at = login.lastIndexOf('@');
    if (at >= 0) {
      if (d && login.slice(at + 1).toLowerCase() === d.dns.toLowerCase()) return wrap(d.users.get(login.slice(0, at).toLowerCase()));
      return undefined;
    }
    // A bare name: a local account first, then the domain's (LookupAccountName's order).
    return wrap(this.sam.get(login) ?? d?.users.get(login.toLowerCase()));
    function wrap(user: SamUser | undefined) {
      return user ? { user, admin: user.admin } : undefined;
    }
  }

  #onClient(client: Connection): void {
    this.#clients.add(client);
    // OpenSSH sets TCP_NODELAY on its sessions; without it, small writes wait for delayed ACKs.
    (client as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
    client.on('close', () => this.#clients.delete(client));
    client.on('error', () => undefined);
    let caller: Caller | undefined;
    client.on('authentication', (ctx: AuthContext) => {
      if (ctx.method !== 'password') return ctx.reject(['password']);
      const found = this.#resolve(ctx.username);
      const accepted = found !== undefined && found.user.password === ctx.password;
      this.logins.push({ login: ctx.username, accepted });
      if (!found || !accepted) return ctx.reject(['password']);
      caller = { login: ctx.username, admin: found.admin };
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
        session.on('shell', (_accept, reject) => {
          this.unexpected.push('an interactive shell was requested');
          reject?.();
        });
        session.on('exec', (accept, _reject, info) => {
          const channel = accept();
          void this.#exec(client, channel, caller!, info.command, pty);
        });
      });
    });
  }

  async #exec(client: Connection, channel: ServerChannel, caller: Caller, command: string, pty: boolean): Promise<void> {
    const input = new Input();
    channel.on('data', (chunk: Buffer) => input.push(chunk));
    channel.on('end', () => input.end());
    // A terminal turns LF into CRLF on output.
    const crlf = (t: string) => (pty ? t.replace(/\r?\n/g, '\r\n') : t);
    const io: Io = {
      input,
      out: (t) => channel.write(Buffer.from(crlf(t), 'utf8')),
      err: (t) => (pty ? channel.write(Buffer.from(crlf(t), 'utf8')) : channel.stderr.write(Buffer.from(t, 'utf8'))),
    };
    let code: number;
    try {
      code = await this.#cmd(command, io, caller, pty);
    } catch (e) {
      if (e instanceof Dropped) {
        (client as unknown as { _sock: Socket })._sock.destroy();
        return;
      }
      throw e;
    }
    channel.exit(code);
    channel.end();
  }

  // ------------------------------------------------------------------ cmd.exe

  async #cmd(command: string, io: Io, caller: Caller, pty: boolean): Promise<number> {
    const record: { login: string; command: string; pty: boolean; script?: string } = { login: caller.login, command, pty };
    this.execs.push(record);
    const ps = this.#options.defaultShell === 'powershell';
    const words = ps ? psWords(command) : cmdWords(command);
    if (words.meta) this.unexpected.push(`${ps ? 'PowerShell' : 'cmd.exe'} would read ${JSON.stringify(words.meta)} outside quotes as code, a separator or a redirection: ${command}`);
    const notRecognized = (word: string) => (ps ? notRecognizedPs(io, word) : notRecognizedCmd(io, word));
    const program = (words.list[0] ?? '').toLowerCase();
    if (program === 'powershell.exe' || program === 'powershell') {
      if ((this.#options.powershell ?? 'available') === 'absent') return notRecognized(words.list[0]!);
      const m = /^\s*powershell(?:\.exe)?\s+-NoProfile\s+-NonInteractive\s+-EncodedCommand\s+([A-Za-z0-9+/=]+)\s*$/i.exec(command);
      let script: string;
      if (m) {
        script = Buffer.from(m[1]!, 'base64').toString('utf16le');
      } else {
        this.unexpected.push(`a powershell.exe command line of another shape: ${command}`);
        script = command.replace(/^\s*\S+\s*/, '');
      }
      record.script = script;
      return new PowerShell(this, io, caller).run(script);
    }
    if (program === 'net' || program === 'net.exe') {
      if ((words.list[1] ?? '').toLowerCase() === 'user') return this.#netUser(words.list.slice(2), io, caller, pty);
      this.unexpected.push(`net ${words.list[1] ?? ''}`);
      io.out('The syntax of this command is:\n\nNET\n    [ ACCOUNTS | COMPUTER | CONFIG | CONTINUE | FILE | GROUP | HELP |\n      HELPMSG | LOCALGROUP | PAUSE | SESSION | SHARE | START |\n      STATISTICS | STOP | TIME | USE | USER | VIEW ]\n\n');
      return 1;
    }
    this.unexpected.push(`the shell was asked to run ${JSON.stringify(words.list[0] ?? '')}`);
    return notRecognized(words.list[0] ?? '');
  }

  // ------------------------------------------------------------------ net user

  async #netUser(args: string[], io: Io, caller: Caller, pty: boolean): Promise<number> {
    if (args.length !== 2 || args[1]!.startsWith('/')) {
      if (args.length !== 2) this.unexpected.push(`net user with arguments ${JSON.stringify(args)}`);
      io.out(
        'The syntax of this command is:\n\nNET USER\n[username [password | *] [options]] [/DOMAIN]\n         username {password | *} /ADD [options] [/DOMAIN]\n         username [/DELETE] [/DOMAIN]\n         username [/TIMES:{times | ALL}]\n         username [/ACTIVE: {YES | NO}]\n\n',
      );
      return 1;
    }
    const [name, given] = args as [string, string];
    let password: string;
    if (given === '*') {
      if (!pty) this.unexpected.push('net user * without a terminal: net reads the password from the console');
      io.out('Type a password for the user: ');
      const first = await io.input.readLine();
      io.out('\nRetype the password to confirm: ');
      const second = await io.input.readLine();
      io.out('\n');
      if (first === null || second === null) return 2;
      // The console (ConPTY) takes the terminal's UTF-8.
      password = first.toString('utf8');
      if (password !== second.toString('utf8')) {
        io.out('The passwords do not match.\n\n');
        return 2;
      }
      if ([...password].length > 14) {
        io.out('The password entered is longer than 14 characters.  Computers\nwith Windows prior to Windows 2000 will not be able to use\nthis account. Do you want to continue this operation? (Y/N) [Y]: ');
        const answer = ((await io.input.readLine()) ?? Buffer.alloc(0)).toString('utf8').trim();
        io.out('\n');
        if (/^n/i.test(answer)) return 2;
      }
    } else {
      this.unexpected.push('net user was given the password on its command line');
      password = given;
    }
    if (!caller.admin) {
      io.out('System error 5 has occurred.\n\nAccess is denied.\n\n');
      return 2;
    }
    const outcome = this.applyChange(name, password);
    if (outcome === 'not-found') {
      io.out('The user name could not be found.\n\nMore help is available by typing NET HELPMSG 2221.\n\n');
      return 2;
    }
    if (outcome === 'policy') {
      io.out('The password does not meet the password policy requirements. Check the minimum password length, password complexity and password history requirements.\n\nMore help is available by typing NET HELPMSG 2245.\n\n');
      return 2;
    }
    io.out('The command completed successfully.\n\n');
    return 0;
  }

  /** Applies a password change to the SAM, with the faults that surround it. */
  applyChange(name: string, password: string): 'ok' | 'not-found' | 'policy' {
    if (this.faults.dropBeforeChange > 0) {
      this.faults.dropBeforeChange--;
      throw new Dropped();
    }
    const outcome = this.sam.setPassword(name, password);
    if (outcome === 'ok' && this.faults.dropAfterChange > 0) {
      this.faults.dropAfterChange--;
      throw new Dropped();
    }
    return outcome;
  }

  get powershellMode(): 'available' | 'no-set-localuser' | 'absent' {
    return this.#options.powershell ?? 'available';
  }
}

function notRecognizedCmd(io: Io, word: string): number {
  io.err(`'${word}' is not recognized as an internal or external command,\noperable program or batch file.\n`);
  return 9009;
}

function notRecognizedPs(io: Io, word: string): number {
  io.err(`${word} : ${NOT_RECOGNIZED_PS(word)}\n    + CategoryInfo          : ObjectNotFound: (${word}:String) [], CommandNotFoundException\n    + FullyQualifiedErrorId : CommandNotFoundException\n \n`);
  return 1;
}

/**
 * Splits a command line as PowerShell passes a native command's arguments: spaces separate words
 * outside quotes; '...' is literal (its typographic forms too), "..." expands `$` and backtick
 * (typographic double quotes too). `meta` is the first character outside quotes, or inside
 * double quotes, that PowerShell would read as code: `; | & $ \` ( ) { } @ < >` and quotes it would expand in.
 */
export function psWords(line: string): { list: string[]; meta?: string } {
  const list: string[] = [];
  let word: string | undefined;
  let meta: string | undefined;
  const DQ = '"\u201c\u201d\u201e';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (isSingleQuote(c)) {
      const lit = readPsSingleQuoted(line, i);
      if (!lit) {
        meta ??= c;
        break;
      }
      word = (word ?? '') + lit.value;
      i = lit.end - 1;
    } else if (DQ.includes(c)) {
      let j = i + 1;
      let value = '';
      for (; j < line.length && !DQ.includes(line[j]!); j++) {
        if ('$`'.includes(line[j]!)) meta ??= line[j]!;
        value += line[j]!;
      }
      word = (word ?? '') + value;
      i = j;
    } else if (c === ' ' || c === '\t') {
      if (word !== undefined) list.push(word);
      word = undefined;
    } else {
      if (';|&$`(){}@<>'.includes(c)) meta ??= c;
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) list.push(word);
  return meta ? { list, meta } : { list };
}

/**
 * Splits a command line as cmd.exe and a program's argument parser would: spaces separate words
 * outside double quotes, quotes are removed, `^` outside quotes takes the next character
 * literally. `meta` is the first `& | < >` found outside quotes.
 */
export function cmdWords(line: string): { list: string[]; meta?: string } {
  const list: string[] = [];
  let word: string | undefined;
  let quoted = false;
  let meta: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') {
      quoted = !quoted;
      word ??= '';
    } else if (!quoted && c === '^' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (!quoted && /[ \t]/.test(c)) {
      if (word !== undefined) list.push(word);
      word = undefined;
    } else {
      if (!quoted && /[&|<>]/.test(c)) meta ??= c;
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) list.push(word);
  return meta ? { list, meta } : { list };
}

const SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b";
const isSingleQuote = (c: string | undefined) => c !== undefined && c.length === 1 && SINGLE_QUOTES.includes(c);

/**
 * Reads a PowerShell single-quoted string literal starting at `start`, as PowerShell's tokenizer
 * does: any of its four single-quote characters opens and closes it, and two in a row stand for
 * the second one. Returns the value and the index after the closing quote.
 */
export function readPsSingleQuoted(text: string, start: number): { value: string; end: number } | undefined {
  if (!isSingleQuote(text[start])) return undefined;
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (isSingleQuote(c)) {
      if (isSingleQuote(text[i + 1])) {
        value += text[++i];
        continue;
      }
      return { value, end: i + 1 };
    }
    value += c;
  }
  return undefined;
}

/** The statements of the adapter's scripts, interpreted; anything else is refused as PowerShell would. */
class PowerShell {
  readonly #sim: WindowsOpenSshSimulator;
  readonly #io: Io;
  readonly #caller: Caller;
  readonly #vars = new Map<string, { reader: 'utf8' } | { secure: string }>();
  #inputEncoding: 'oem' | 'utf8' = 'oem';
  #current: PsError | undefined;

  constructor(sim: WindowsOpenSshSimulator, io: Io, caller: Caller) {
    this.#sim = sim;
    this.#io = io;
    this.#caller = caller;
  }

  async run(script: string): Promise<number> {
    const lines = script.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
    try {
      for (let i = 0; i < lines.length; i++) {
        if (lines[i] === 'try {') {
          const catchAt = lines.indexOf('} catch {', i);
          const endAt = lines.indexOf('}', catchAt);
          if (catchAt < 0 || endAt < 0) throw this.#unknown(lines[i]!);
          try {
            for (const l of lines.slice(i + 1, catchAt)) await this.#statement(l);
          } catch (e) {
            if (!(e instanceof PsError)) throw e;
            this.#current = e;
            for (const l of lines.slice(catchAt + 1, endAt)) await this.#statement(l);
          }
          i = endAt;
          continue;
        }
        await this.#statement(lines[i]!);
      }
      return 0;
    } catch (e) {
      if (e instanceof Exit) return e.code;
      if (!(e instanceof PsError)) throw e;
      // An error outside try/catch with $ErrorActionPreference = 'Stop' ends the script.
      this.#io.err(`${e.message}\n    + CategoryInfo          : ${e.category}: (:) [], ${e.exceptionType.split('.').pop()}\n    + FullyQualifiedErrorId : ${e.errorId}\n \n`);
      return 1;
    }
  }

  #unknown(statement: string): PsError {
    this.#sim.unexpected.push(`PowerShell statement: ${statement}`);
    const term = statement.split(/\s+/)[0] ?? statement;
    return new PsError('CommandNotFoundException', 'ObjectNotFound', 'System.Management.Automation.CommandNotFoundException', NOT_RECOGNIZED_PS(term));
  }

  async #statement(s: string): Promise<void> {
    let m: RegExpExecArray | null;
    if (s === "$ErrorActionPreference = 'Stop'" || s === "$ProgressPreference = 'SilentlyContinue'") return;
    if ((m = /^\$(\w+) = New-Object System\.IO\.StreamReader\(\[Console\]::OpenStandardInput\(\), \(New-Object System\.Text\.UTF8Encoding\(\$false\)\), \$false\)$/.exec(s))) {
      this.#vars.set(m[1]!.toLowerCase(), { reader: 'utf8' });
      return;
    }
    if (/^\[Console\]::InputEncoding = (\[System\.Text\.Encoding\]::UTF8|New-Object System\.Text\.UTF8Encoding(\(\$false\))?|\[System\.Text\.UTF8Encoding\]::new\(\$?false\))$/.test(s)) {
      this.#inputEncoding = 'utf8';
      return;
    }
    if ((m = /^\[Console\]::Out\.WriteLine\((.*)\)$/.exec(s))) {
      this.#io.out(`${this.#expression(m[1]!, s)}\r\n`);
      return;
    }
    if ((m = /^\$(\w+) = ConvertTo-SecureString -String (\$(\w+)\.ReadLine\(\)|\(\[Console\]::In\.ReadLine\(\)\)) -AsPlainText -Force$/.exec(s))) {
      let line: string | null;
      if (m[3] !== undefined) {
        const reader = this.#vars.get(m[3].toLowerCase());
        if (!reader || !('reader' in reader)) throw this.#unknown(s);
        const bytes = await this.#io.input.readLine();
        line = bytes === null ? null : bytes.toString('utf8');
      } else {
        const bytes = await this.#io.input.readLine();
        line = bytes === null ? null : this.#inputEncoding === 'utf8' ? bytes.toString('utf8') : decodeOem(bytes);
      }
      if (line === null) {
        throw new PsError(
          'ParameterArgumentValidationErrorNullNotAllowed,Microsoft.PowerShell.Commands.ConvertToSecureStringCommand',
          'InvalidData',
          'System.Management.Automation.ParameterBindingValidationException',
          "Cannot bind argument to parameter 'String' because it is null.",
        );
      }
      if (line === '') {
        throw new PsError(
          'ParameterArgumentValidationErrorEmptyStringNotAllowed,Microsoft.PowerShell.Commands.ConvertToSecureStringCommand',
          'InvalidData',
          'System.Management.Automation.ParameterBindingValidationException',
          "Cannot bind argument to parameter 'String' because it is an empty string.",
        );
      }
      this.#vars.set(m[1]!.toLowerCase(), { secure: line });
      return;
    }
    if (s.startsWith('Set-LocalUser -Name ')) {
      if (this.#sim.powershellMode !== 'available') throw this.#notRecognizedCmdlet('Set-LocalUser');
      const lit = readPsSingleQuoted(s, 'Set-LocalUser -Name '.length);
      const rest = lit ? s.slice(lit.end) : '';
      const pm = /^ -Password \$(\w+)$/.exec(rest);
      const secure = pm ? this.#vars.get(pm[1]!.toLowerCase()) : undefined;
      if (!lit || !secure || !('secure' in secure)) throw this.#unknown(s);
      return this.#setLocalUser(lit.value, secure.secure);
    }
    if ((m = /^exit (\d+)$/.exec(s))) throw new Exit(Number(m[1]));
    if ((m = /^if \(Get-Command -Name Set-LocalUser -ErrorAction SilentlyContinue\) \{ (.*) \} else \{ (.*) \}$/.exec(s))) {
      return this.#statement(this.#sim.powershellMode === 'available' ? m[1]! : m[2]!);
    }
    throw this.#unknown(s);
  }

  #notRecognizedCmdlet(name: string): PsError {
    return new PsError('CommandNotFoundException', 'ObjectNotFound', 'System.Management.Automation.CommandNotFoundException', NOT_RECOGNIZED_PS(name));
  }

  #setLocalUser(name: string, password: string): void {
    const id = (what: string) => `${what},Microsoft.PowerShell.Commands.SetLocalUserCommand`;
    if (!this.#caller.admin) throw new PsError(id('AccessDenied'), 'PermissionDenied', 'Microsoft.PowerShell.Commands.AccessDeniedException', 'Access denied.');
    const outcome = this.#sim.applyChange(name, password);
    if (outcome === 'not-found') throw new PsError(id('UserNotFound'), 'ObjectNotFound', 'Microsoft.PowerShell.Commands.UserNotFoundException', `User ${name} was not found.`);
    if (outcome === 'policy') {
      throw new PsError(
        id('InvalidPassword'),
        'InvalidArgument',
        'Microsoft.PowerShell.Commands.InvalidPasswordException',
        'Unable to update the password. The value provided for the new password does not meet the length, complexity, or history requirements of the domain.',
      );
    }
  }

  /** `'literal' + $_.Property + ...`: string literals and the error record's properties. */
  #expression(text: string, statement: string): string {
    const terms: string[] = [];
    let depth = 0;
    let term = '';
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (isSingleQuote(c)) {
        const lit = readPsSingleQuoted(text, i);
        if (!lit) throw this.#unknown(statement);
        term += text.slice(i, lit.end);
        i = lit.end - 1;
        continue;
      }
      if (c === '(') depth++;
      if (c === ')') depth--;
      if (c === '+' && depth === 0) {
        terms.push(term.trim());
        term = '';
        continue;
      }
      term += c;
    }
    terms.push(term.trim());
    const e = this.#current;
    return terms
      .map((t) => {
        const lit = readPsSingleQuoted(t, 0);
        if (lit && lit.end === t.length) return lit.value;
        if (t === '$_.FullyQualifiedErrorId') return e?.errorId ?? '';
        if (t === '$_.CategoryInfo.Category') return e?.category ?? '';
        if (t === '$_.Exception.GetType().FullName') return e?.exceptionType ?? '';
        if (t === "($_.Exception.Message -replace '\\s+', ' ')") return (e?.message ?? '').replace(/\s+/g, ' ');
        throw this.#unknown(statement);
      })
      .join('');
  }
}
