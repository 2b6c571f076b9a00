/**
 * IBM i (as400) over SSH: the PASE shell an SSH login gets, enough of it for a password change.
 *
 * What an SSH login gives: IBM i's sshd (5733-SC1 / the OpenSSH in PASE) starts the profile's
 * PASE login shell, /QOpenSys/usr/bin/bsh unless the profile names another (prompt "$ "), or
 * the open-source /QOpenSys/pkgs/bin/bash (prompt "bash-5.1$ ") where a site set it (IBM
 * Documentation, "IBM PASE for i shells and utilities", rzalf/rzalfpase.htm, lists the PASE
 * shells; that bsh is sshd's default is our understanding of IBM's SSH setup notes, not a page
 * we could quote). No prompt follows the SSH authentication.
 *
 * The documented ways to change a password from there, and what each exposes:
 * 1. `system "CHGUSRPRF USRPRF(X) PASSWORD(new)"` (PASE system utility, rzalfpasesystem.htm):
 *    *SECADM only, skips the QPWD* rules, the password on `system`'s argv (ps) and in the job log
 *    as the CL request (whether IBM masks it there we could not confirm).
 * 2. `system "CALL QSYS/QSYCHGPW PARM('*CURRENT' 'old' 'new' X'00000000')"`: the Change User
 *    Password API (apis/QSYCHGPW.htm), the rules checked, both passwords on argv and in the job log.
 * 3. CHGPWD: a display (its CL page: where allowed to run, interactive environments), so not
 *    usable in the batch job an SSH session runs in.
 * 4. SQL `CALL QSYS.QSYCHGPW(...)` (or QSYS2.QCMDEXC) through QShell's db2 utility (`qsh -c db2`,
 *    "Running Qshell commands from PASE", rzahz/rzahzcmdpase.htm), the statement on db2's
 *    standard input: built by the shell's own `printf` (a builtin: no process, no argv) from
 *    variables filled by `read -s` (nothing echoed, nothing in the history), the passwords are on
 *    no command line and, the statement not being a CL request, in no job log message. The one
 *    residue: the SQL statement text, which a database monitor (STRDBMON), if one is running,
 *    captures (`statements` below). That an SQL CALL naming a program with no procedure defined
 *    calls the program is our reading of the Db2 for i CALL statement. PASE has no passwd for
 *    IBM i profiles ("IBM PASE for i commands": no AIX system-management interfaces).
 * Chosen (least exposed): 4 with QSYCHGPW, `*CURRENT` and the current password for an account's
 * own change (the rules apply), an officer's `'NAME'` and `'*NOPWD'` for another's, the lengths
 * passed (${#CUR}) so passwords longer than 10 characters are taken whole. It needs bash (`read
 * -s`, the printf builtin, ${#NAME}); from a bsh login shell it starts /QOpenSys/pkgs/bin/bash
 * first (bsh's printf is a process). A password holding a quote (') breaks the SQL literal; the
 * driver's policy should refuse it. The support matrix should say the statement text is visible
 * to a database monitor.
 *
 *   WHO='*CURRENT'
 *   read -rs CUR            (current password, typed with echo off)
 *   read -rs NEW            (new password)
 *   printf "CALL QSYS.QSYCHGPW('%s', '%s', '%s', X'00000000', %d, 0, %d, 0)\n" \
 *     "$WHO" "$CUR" "$NEW" ${#CUR} ${#NEW} | qsh -c db2
 *
 * Wordings: the shells' "command not found" are bash's own and (best guess) AIX bsh's; the IBM
 * messages are listed in ibm-i-security.ts and ibm-i-commands.ts with their provenance.
 */
import type { Dialect, LoginInfo, Terminal } from './dialect.js';
import { runCl, runSql, type JobContext } from './ibm-i-commands.js';
import { IbmSecurity, type SpecialAuthority, type SystemValues, type UserProfile } from './ibm-i-security.js';
import { lex, printf, split, type Pipeline } from './ibm-i-shell-syntax.js';

export interface IbmIOptions {
  /** The profile's PASE login shell (default bash, as most sites set it for SSH). */
  readonly shell?: 'bash' | 'bsh';
  /** Whether the open-source bash (/QOpenSys/pkgs/bin/bash) is installed (default true). */
  readonly bashInstalled?: boolean;
  readonly systemValues?: Partial<SystemValues>;
}

export interface IbmISimulator {
  readonly dialect: Dialect;
  readonly security: IbmSecurity;
  addProfile(name: string, password: string | undefined, options?: { special?: readonly SpecialAuthority[]; status?: '*ENABLED' | '*DISABLED' }): UserProfile;
  setSystemValue<K extends keyof SystemValues>(name: K, value: SystemValues[K]): void;
  /** Whether `password` is `user`'s password now (no sign-on counted). */
  checkPassword(user: string, password: string): boolean;
  /** Every command line the shell did not know, as typed. */
  readonly unexpected: string[];
  /** The job log of every session, as DSPJOBLOG would show it. */
  readonly joblog: string[];
  /** The argv of every program the system ran (`ps` would show them), joined by spaces. */
  readonly commandLines: string[];
  /** The shell history: every line typed at the prompt (not what `read` took). */
  readonly history: string[];
  /** SQL statement texts (what a database monitor could capture). */
  readonly statements: string[];
}

export function ibmI(options: IbmIOptions = {}): IbmISimulator {
  const security = new IbmSecurity();
  Object.assign(security.values, options.systemValues ?? {});
  const shell = options.shell ?? 'bash';
  const bashInstalled = options.bashInstalled ?? true;
  const sim: IbmISimulator = {
    security,
    addProfile: (name, password, o) => security.addProfile(name, password, o),
    setSystemValue: (name, value) => {
      security.values[name] = value;
    },
    checkPassword: (user, password) => {
      const p = security.profile(user);
      return p !== undefined && security.matches(p, password);
    },
    unexpected: [],
    joblog: [],
    commandLines: [],
    history: [],
    statements: [],
    dialect: {
      name: 'as400',
      login: {
        usernameRequired: () => true,
        // TN5250 is out of scope and the schema refuses Telnet for as400; harmless prompts.
        usernamePrompt: 'login: ',
        passwordPrompt: 'Password: ',
        failed: 'Login incorrect\n',
        attempts: 3,
        authenticate: (username, password) => {
          if (username === undefined) return undefined;
          const r = security.signOn(username, password);
          return 'name' in r ? r.name : undefined;
        },
      },
      paging: { lines: 0, more: '', erase: '' },
      session: (term, login) => new PaseSession(sim, [shell], bashInstalled, term, login).run(),
    },
  };
  return sim;
}

class PaseSession {
  readonly #vars = new Map<string, string>([['?', '0']]);
  readonly #ctx: JobContext;
  #echo = true;
  /** The exit status of the command that ran last ($?). */
  #status = 0;

  constructor(
    private readonly sim: IbmISimulator,
    /** The shells started in this session, the login shell first (`bash` from bsh nests one). */
    private readonly shells: ('bash' | 'bsh')[],
    private readonly bashInstalled: boolean,
    private readonly term: Terminal,
    login: LoginInfo,
  ) {
    const user = sim.security.profile(String(login.grant));
    if (!user) throw new Error(`as400: no profile ${String(login.grant)}`);
    this.#ctx = {
      security: sim.security,
      user,
      joblog: sim.joblog,
      statements: sim.statements,
      refusal: () => term.refusal(),
      applied: (what) => term.applied(what),
    };
    this.#vars.set('USER', user.name.toLowerCase());
    this.#vars.set('LOGNAME', user.name.toLowerCase());
  }

  get shell(): 'bash' | 'bsh' {
    return this.shells[this.shells.length - 1]!;
  }

  get #prompt(): string {
    return this.shell === 'bash' ? 'bash-5.1$ ' : '$ ';
  }

  async run(): Promise<void> {
    // IBM i's Telnet server speaks TN5250 (block-mode screens), not a line-mode shell: nothing here.
    if (this.term.transport === 'telnet') {
      this.term.close();
      return;
    }
    for (;;) {
      const line = await this.term.read(this.#prompt, { echo: this.#echo });
      if (line === undefined) return;
      if (line.trim() === '') continue;
      this.sim.history.push(line);
      const lists = split(line);
      if (typeof lists === 'string') {
        await this.term.print(`${this.shell}: ${lists}\n`);
        continue;
      }
      // Each pipeline is expanded when it runs (so `read X; echo $X` sees X), after && or || decide.
      for (const { op, text } of lists) {
        if ((op === '&&' && this.#status !== 0) || (op === '||' && this.#status === 0)) continue;
        const pipeline = lex(text, this.#vars, this.shell === 'bash');
        if (typeof pipeline === 'string') {
          await this.term.print(`${this.shell}: ${pipeline}\n`);
          this.#status = 1;
        } else if (pipeline[0] && (await this.#pipeline(pipeline[0], line))) {
          this.term.close();
          return;
        }
        this.#vars.set('?', String(this.#status));
      }
    }
  }

  /** Runs `a | b | ...`; true when the shell should exit. */
  async #pipeline(pipeline: Pipeline, line: string): Promise<boolean> {
    let input = '';
    for (let i = 0; i < pipeline.length; i++) {
      const words = pipeline[i]!;
      if (words.length === 0) continue;
      const last = i === pipeline.length - 1;
      this.#status = 0;
      const r = await this.#command(words, input, line);
      if (r === 'exit') return true;
      if (last) await this.term.print(r);
      else input = r;
    }
    return false;
  }

  /** One simple command; returns its standard output (errors are printed at once). */
  async #command(words: string[], stdin: string, line: string): Promise<string | 'exit'> {
    const [name, ...args] = words as [string, ...string[]];
    const assign = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(name);
    if (assign && args.length === 0) {
      this.#vars.set(assign[1]!, assign[2]!);
      return '';
    }
    switch (name) {
      case 'exit':
      case 'logout':
        this.shells.pop();
        return this.shells.length === 0 ? 'exit' : '';
      case 'bash':
      case '/QOpenSys/pkgs/bin/bash':
        if (!this.bashInstalled) break;
        this.sim.commandLines.push(words.join(' '));
        this.shells.push('bash');
        return '';
      // /QOpenSys/usr/bin/sh (the Korn shell) is not simulated: its `read -s` saves to history.
      case 'bsh':
      case '/QOpenSys/usr/bin/bsh':
        this.sim.commandLines.push(words.join(' '));
        this.shells.push('bsh');
        return '';
      case 'true':
      case ':':
      case 'cd':
        return '';
      case 'pwd':
        return `/home/${this.#ctx.user.name}\n`;
      case 'echo':
        return `${args.join(' ')}\n`;
      case 'printf':
        // A bash builtin; bsh has none, so there it is /QOpenSys/usr/bin/printf, a process.
        if (this.shell === 'bsh') this.sim.commandLines.push(words.join(' '));
        return printf(args);
      case 'export':
        for (const a of args) {
          const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(a);
          if (m) this.#vars.set(m[1]!, m[2]!);
        }
        return '';
      case 'unset':
        for (const a of args) this.#vars.delete(a);
        return '';
      case 'read':
        return this.#read(args);
      case 'stty':
        this.sim.commandLines.push(words.join(' '));
        if (args.includes('-echo')) this.#echo = false;
        if (args.includes('echo')) this.#echo = true;
        return '';
      case 'system':
        this.sim.commandLines.push(words.join(' '));
        return this.#system(args);
      case 'qsh':
        this.sim.commandLines.push(words.join(' '));
        return this.#qsh(args, stdin, line);
    }
    return this.#unknown(name, line);
  }

  /** A command this shell does not have: recorded once per line, answered as the shell does. */
  async #unknown(name: string, line: string): Promise<string> {
    this.#status = 127;
    if (this.sim.unexpected[this.sim.unexpected.length - 1] !== line) this.sim.unexpected.push(line);
    await this.term.print(this.shell === 'bash' ? `bash: ${name}: command not found\n` : `bsh: ${name}: not found.\n`);
    return '';
  }

  async #read(args: string[]): Promise<string> {
    let prompt = '';
    let silent = false;
    let raw = false;
    const names: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (this.shell === 'bash' && a === '-p') prompt = args[++i] ?? '';
      else if (this.shell === 'bash' && /^-[rs]+$/.test(a)) {
        silent ||= a.includes('s');
        raw ||= a.includes('r');
      }
      else if (a.startsWith('-')) {
        await this.term.print(`${this.shell}: read: ${a}: invalid option\n`);
        this.#status = 2;
        return '';
      } else names.push(a);
    }
    // As bash: with -s the Enter is not echoed either, so the next output follows on the same line.
    const value = await this.term.read(prompt, { echo: this.#echo && !silent });
    if (value === undefined) this.#status = 1;
    // bash(1), read: without -r a backslash escapes the next character (and is removed); into a
    // named variable, leading and trailing IFS whitespace (space and tab by default) is stripped
    // (not into REPLY). IFS itself is not simulated.
    let v = value ?? '';
    if (!raw) v = v.replace(/\\(.)/gs, '$1').replace(/\\$/, '');
    if (names.length > 0) v = v.replace(/^[ \t]+|[ \t]+$/g, '');
    this.#vars.set(names[0] ?? 'REPLY', v);
    return '';
  }

  async #system(args: string[]): Promise<string> {
    let i = 0;
    let ids = true;
    let verbose = false;
    for (; i < args.length && /^-[beEhiIkKnOpqsv]+$/.test(args[i]!); i++) {
      if (args[i]!.includes('n')) ids = false;
      if (args[i]!.includes('v')) verbose = true;
    }
    const cl = args.slice(i).join(' ');
    if (cl === '') return 'Usage: system [-beEhiIkKnOpqsv] CL-command [CL-parameters ...]\n';
    if (verbose) await this.term.print(`${cl}\n`);
    const r = runCl(this.#ctx, cl);
    if (r.failed) this.#status = 1; // best guess at the utility's status for an escape message
    if (r.refusedWith !== undefined) return `${r.refusedWith}\n`;
    return r.messages.map((m) => (ids ? `${m.id}: ${m.text}\n` : `${m.text}\n`)).join('');
  }

  /** `qsh -c 'db2 ...'`: QShell's db2, statements from its argument or its standard input. */
  async #qsh(args: string[], stdin: string, line: string): Promise<string> {
    if (args[0] !== '-c' || args[1] === undefined) {
      this.#status = 1;
      this.sim.unexpected.push(line);
      return 'qsh: interactive QShell is not simulated\n';
    }
    const parsed = lex(args[1], new Map(), false);
    const inner = typeof parsed === 'string' ? [] : (parsed[0]?.[0] ?? []);
    if (inner[0] !== 'db2') {
      this.#status = 1;
      this.sim.unexpected.push(line);
      await this.term.print(`qsh: 001-0019 Error found searching for command ${inner[0] ?? ''}. No such path or directory.\n`);
      return '';
    }
    this.sim.commandLines.push(inner.join(' '));
    const opts = inner.slice(1).filter((w) => /^-[ipStv]+$/.test(w));
    const statement = inner.slice(1 + opts.length).join(' ');
    // Interactive (standard input): one statement a line, a backslash at a line's end continues it;
    // with -t statements end at a semicolon instead.
    const terminated = opts.some((o) => o.includes('t'));
    const joined = stdin.replace(/\\\n/g, '');
    const texts = statement !== '' ? [statement] : terminated ? joined.split(';') : joined.split('\n');
    const results = texts.map((s) => runSql(this.#ctx, s));
    if (results.some((r) => r.failed)) this.#status = 1;
    return results.map((r) => r.output).join('');
  }
}
