/**
 * The HP ProCurve dialect (K/KA/KB switch software), on the shared device core (dialect.ts).
 * Sources, and which wordings are documented and which are best guesses: hp-procurve-config.ts.
 *
 * Behaviour from the "HP ProCurve Management and Configuration Guide" and the "HP Switch Software
 * Access Security Guide" ("Configuring Username and Password Security"):
 * - The session opens with the banner and "Press any key to continue". Over SSH that comes after
 *   the SSH authentication; over Telnet the switch shows both before its login prompts
 *   (`login.banner()` and `login.beforeLogin`), and a switch with no password set then goes
 *   straight to the manager prompt, asking nothing.
 * - The Telnet login asks "Username: " and "Password: " when a manager or operator user name is
 *   set, "Password: " alone when only passwords are. The manager's credentials log in at the
 *   manager level (`#`), the operator's at the operator level (`>`). With only an operator
 *   password, `enable` gives the manager level without one ("Configuring only an Operator
 *   password does not prevent access to the Manager level"); with no password at all any login
 *   is a manager login.
 * - `enable` from the operator level asks for the manager's user name (when set) and password.
 * - `password manager|operator|all [user-name NAME]` (global configuration context) asks twice for
 *   the new password and refuses a mismatch; `plaintext PASS` and `sha1 HASH` give it on the line.
 *   The change takes effect at once in the running configuration: the next login needs it.
 * - `write memory` copies the running configuration to the startup configuration.
 * - `logout` (or `exit` outside the configuration context) asks "Do you want to log out [y/n]?",
 *   then, when the running configuration differs from the startup one, whether to save it; only
 *   `y` saves, `^C` stays logged in. Both questions take a single key.
 * - Keywords may be abbreviated to any unique prefix (`conf`, `sh run`, `wr mem`).
 */
import { keyword, words } from './cli-words.js';
import type { Dialect, LoginInfo, Terminal } from './dialect.js';
import {
  copyConfig,
  type Credential,
  type Level,
  type ProcurveConfig,
  render,
  sameConfig,
  sha1Hex,
  texts,
} from './hp-procurve-config.js';

export interface HpProcurveOptions {
  /** Default "HP-Switch". */
  readonly hostname?: string;
  /** The manager's credentials, in both configurations at start; default none (no login security). */
  readonly manager?: { readonly username?: string; readonly password: string };
  readonly operator?: { readonly username?: string; readonly password: string };
  /** Whether the credentials travel in the configuration (`include-credentials`); default true. */
  readonly includeCredentials?: boolean;
  /** Lines per page at login; default 24. */
  readonly pageLines?: number;
}

/** The dialect plus the hooks a test reads and sets. */
export interface HpProcurve extends Dialect {
  /** Every command line the switch did not know, as typed. */
  readonly unexpected: string[];
  running(): ProcurveConfig;
  startup(): ProcurveConfig;
  /** `show running-config` / `show config` as the switch prints them. */
  runningText(): string;
  startupText(): string;
  /** Sets a level's password (and user name) in both configurations, as the switch was found. */
  setPassword(level: Level, password: string, username?: string): void;
  /** A reboot: the running configuration becomes the startup one. */
  reload(): void;
}

interface Grant {
  readonly level: Level;
}

type Context = 'operator' | 'manager' | 'config';

export function hpProcurve(options: HpProcurveOptions = {}): HpProcurve {
  const credential = (c: { username?: string; password: string } | undefined): Credential | undefined =>
    c && { username: c.username, sha1: sha1Hex(c.password) };
  const state = {
    running: {
      hostname: options.hostname ?? 'HP-Switch',
      manager: credential(options.manager),
      operator: credential(options.operator),
      includeCredentials: options.includeCredentials ?? true,
    } as ProcurveConfig,
    startup: undefined as unknown as ProcurveConfig,
  };
  state.startup = copyConfig(state.running);
  const unexpected: string[] = [];
  const lines = options.pageLines ?? 24;

  const dialect: HpProcurve = {
    name: 'hp-procurve',
    login: {
      usernameRequired: () =>
        state.running.manager?.username !== undefined || state.running.operator?.username !== undefined,
      usernamePrompt: texts.usernamePrompt,
      passwordPrompt: texts.passwordPrompt,
      failed: texts.loginFailed,
      attempts: 3,
      banner: () => texts.banner,
      beforeLogin: async (term) => {
        if ((await term.key(texts.pressAnyKey)) === undefined) return undefined;
        await term.print('\n');
        // No password set: no login security, the switch asks nothing.
        if (!state.running.manager && !state.running.operator) return { username: undefined, grant: { level: 'manager' } satisfies Grant };
        return 'ask';
      },
      authenticate: (username, password) => authenticate(state.running, username, password),
    },
    paging: {
      lines,
      more: texts.more,
      erase: '\r' + ' '.repeat(texts.more.length) + '\r',
      quitKeys: ['q', '\x03'],
    },
    session: (term, login) => new ProcurveSession(term, login, state, unexpected, lines).run(),
    unexpected,
    running: () => copyConfig(state.running),
    startup: () => copyConfig(state.startup),
    runningText: () => texts.runningHeading + render(state.running),
    startupText: () => texts.startupHeading + render(state.startup),
    setPassword(level, password, username) {
      const cred = { username, sha1: sha1Hex(password) };
      state.running[level] = cred;
      state.startup[level] = cred;
    },
    reload() {
      state.running = copyConfig(state.startup);
    },
  };
  return dialect;
}

/** Which level a login gets, from the running configuration's credentials; undefined refuses it. */
function authenticate(c: ProcurveConfig, username: string | undefined, password: string): Grant | undefined {
  if (!c.manager && !c.operator) return { level: 'manager' };
  const named = c.manager?.username !== undefined || c.operator?.username !== undefined;
  const hash = sha1Hex(password);
  const matches = (cred: Credential | undefined): boolean =>
    cred !== undefined &&
    cred.sha1 === hash &&
    (!named || cred.username === undefined || cred.username === username);
  if (matches(c.manager)) return { level: 'manager' };
  if (matches(c.operator)) return { level: 'operator' };
  return undefined;
}

class ProcurveSession {
  #context: Context;

  constructor(
    private readonly term: Terminal,
    login: LoginInfo,
    private readonly state: { running: ProcurveConfig; startup: ProcurveConfig },
    private readonly unexpected: string[],
    private readonly lines: number,
  ) {
    this.#context = (login.grant as Grant).level === 'manager' ? 'manager' : 'operator';
  }

  get #prompt(): string {
    const host = this.state.running.hostname;
    if (this.#context === 'config') return `${host}(config)# `;
    return this.#context === 'manager' ? `${host}# ` : `${host}> `;
  }

  async run(): Promise<void> {
    // Over Telnet the banner and the key prompt came before the login (`login.beforeLogin`).
    if (this.term.transport === 'ssh') {
      await this.term.print(texts.banner);
      if ((await this.term.key(texts.pressAnyKey)) === undefined) return;
      await this.term.print('\n');
    }
    while (!this.term.closed) {
      const line = await this.term.read(this.#prompt);
      if (line === undefined) return;
      if (line.trim() === '') continue;
      await this.#command(line);
    }
  }

  async #command(line: string): Promise<void> {
    const w = words(line);
    const ctx = this.#context;
    const known =
      ctx === 'operator'
        ? (['enable', 'exit', 'logout', 'no', 'page', 'show'] as const)
        : ctx === 'manager'
          ? (['configure', 'enable', 'exit', 'logout', 'no', 'page', 'show', 'write'] as const)
          : ([
              'configure', 'end', 'exit', 'hostname', 'include-credentials', 'logout', 'no', 'page',
              'password', 'show', 'write',
            ] as const);
    const cmd = keyword<string>(w[0], known);
    switch (cmd) {
      case 'enable':
        return this.#enable(line, w);
      case 'configure':
        if (ctx === 'config') return this.#invalid(line, w[0]!);
        if (w[1] !== undefined && keyword(w[1], ['terminal'] as const) === undefined) return this.#invalid(line, w[1]);
        this.#context = 'config';
        return;
      case 'end':
        this.#context = 'manager';
        return;
      case 'exit':
        if (ctx === 'config') {
          this.#context = 'manager';
          return;
        }
        return this.#logout();
      case 'logout':
        return this.#logout();
      case 'page':
        this.term.pageLength = this.lines;
        return;
      case 'no':
        return this.#no(line, w);
      case 'show':
        return this.#show(line, w);
      case 'write':
        return this.#write(line, w);
      case 'hostname':
        if (w[1] === undefined) return this.#incomplete(line, w[0]!);
        this.state.running.hostname = w[1];
        return;
      case 'include-credentials':
        this.state.running.includeCredentials = true;
        return;
      case 'password':
        return this.#password(line, w.slice(1));
      default:
        return this.#invalid(line, w[0]!);
    }
  }

  async #invalid(line: string, word: string): Promise<void> {
    this.unexpected.push(line);
    await this.term.print(texts.invalid(word));
  }

  async #incomplete(line: string, word: string): Promise<void> {
    this.unexpected.push(line);
    await this.term.print(texts.incomplete(word));
  }

  async #enable(line: string, w: readonly string[]): Promise<void> {
    if (w.length > 1) return this.#invalid(line, w[1]!);
    if (this.#context !== 'operator') return;
    const manager = this.state.running.manager;
    if (!manager) {
      this.#context = 'manager';
      return;
    }
    let username: string | undefined;
    if (manager.username !== undefined) {
      username = await this.term.read(texts.usernamePrompt);
      if (username === undefined) return;
    }
    const password = await this.term.read(texts.passwordPrompt, { echo: false });
    if (password === undefined) return;
    await this.term.print('\n');
    const ok = sha1Hex(password) === manager.sha1 && (manager.username === undefined || username === manager.username);
    if (ok) this.#context = 'manager';
    else await this.term.print(texts.enableFailed);
  }

  async #show(line: string, w: readonly string[]): Promise<void> {
    if (w[1] === undefined) return this.#incomplete(line, w[0]!);
    const what = this.#context === 'operator' ? undefined : keyword(w[1], ['running-config', 'config'] as const);
    if (what === undefined) return this.#invalid(line, w[1]);
    if (w[2] !== undefined) return this.#invalid(line, w[2]);
    if (what === 'running-config') await this.term.print(texts.runningHeading + render(this.state.running));
    else await this.term.print(texts.startupHeading + render(this.state.startup));
  }

  async #write(line: string, w: readonly string[]): Promise<void> {
    if (w[1] === undefined) return this.#incomplete(line, w[0]!);
    const what = keyword(w[1], ['memory', 'terminal'] as const);
    if (what === undefined) return this.#invalid(line, w[1]);
    if (w[2] !== undefined) return this.#invalid(line, w[2]);
    if (what === 'memory') this.state.startup = copyConfig(this.state.running);
    else await this.term.print(texts.runningHeading + render(this.state.running));
  }

  async #no(line: string, w: readonly string[]): Promise<void> {
    if (w[1] === undefined) return this.#incomplete(line, w[0]!);
    const known = this.#context === 'config' ? (['page', 'password', 'include-credentials'] as const) : (['page'] as const);
    const what = keyword<string>(w[1], known);
    if (what === 'page') {
      if (w[2] !== undefined) return this.#invalid(line, w[2]);
      this.term.pageLength = 0;
      return;
    }
    if (what === 'include-credentials') {
      this.state.running.includeCredentials = false;
      return;
    }
    if (what !== 'password') return this.#invalid(line, w[1]);
    const target = w[2] === undefined ? 'all' : keyword(w[2], ['manager', 'operator', 'all'] as const);
    if (target === undefined) return this.#invalid(line, w[2]!);
    if (w[3] !== undefined) return this.#invalid(line, w[3]);
    const answer = await this.#yesNo(texts.deleteQuestion, false);
    if (answer !== 'y') return;
    const refused = this.term.refusal();
    if (refused !== undefined) return this.term.print(withNewline(refused));
    const levels: Level[] = target === 'all' ? ['manager', 'operator'] : [target];
    for (const level of levels) this.state.running[level] = undefined;
    this.term.applied(`no password ${target}`);
  }

  /** `password manager|operator|all [user-name NAME] [plaintext PASS | sha1 HASH]`. */
  async #password(line: string, args: readonly string[]): Promise<void> {
    if (args[0] === undefined) return this.#incomplete(line, 'password');
    const target = keyword(args[0], ['manager', 'operator', 'all'] as const);
    if (target === undefined) return this.#invalid(line, args[0]);
    let username: string | undefined;
    let given: { sha1: string } | undefined;
    for (let i = 1; i < args.length; i += 2) {
      const option = target === 'all' ? undefined : keyword(args[i], ['user-name', 'plaintext', 'sha1'] as const);
      const value = args[i + 1];
      if (option === undefined || (option !== 'user-name' && given)) return this.#invalid(line, args[i]!);
      if (value === undefined) return this.#incomplete(line, args[i]!);
      if (option === 'user-name') username = value;
      else if (option === 'plaintext') given = { sha1: sha1Hex(value) };
      else if (/^[0-9a-f]{40}$/i.test(value)) given = { sha1: value.toLowerCase() };
      else return this.#invalid(line, value);
    }
    const levels: Level[] = target === 'all' ? ['operator', 'manager'] : [target];
    for (const level of levels) {
      let sha1 = given?.sha1;
      if (sha1 === undefined) {
        const first = await this.term.read(texts.newPassword(level), { echo: false });
        if (first === undefined) return;
        await this.term.print('\n');
        const second = await this.term.read(texts.retype(level), { echo: false });
        if (second === undefined) return;
        await this.term.print('\n');
        if (first !== second) return this.term.print(texts.mismatch);
        if (first === '') return this.term.print(texts.emptyPassword);
        sha1 = sha1Hex(first);
      }
      const refused = this.term.refusal();
      if (refused !== undefined) return this.term.print(withNewline(refused));
      this.state.running[level] = { username: username ?? this.state.running[level]?.username, sha1 };
      this.term.applied(`password ${level}`);
    }
  }

  /** Logout's questions; only a `y` logs out, and only a `y` to the second saves. */
  async #logout(): Promise<void> {
    const out = await this.#yesNo(texts.logoutQuestion, false);
    if (out !== 'y') return;
    if (this.#context !== 'operator' && !sameConfig(this.state.running, this.state.startup)) {
      const save = await this.#yesNo(texts.saveQuestion, true);
      if (save === undefined || save === 'cancel') return;
      if (save === 'y') this.state.startup = copyConfig(this.state.running);
    }
    this.term.close();
  }

  /** Reads single keys until y or n (or ^C where allowed); other keys are ignored, as the switch does. */
  async #yesNo(prompt: string, allowCancel: boolean): Promise<'y' | 'n' | 'cancel' | undefined> {
    let text = prompt;
    for (;;) {
      const k = await this.term.key(text);
      if (k === undefined) return undefined;
      text = '';
      const c = k.toLowerCase();
      if (c === 'y' || c === 'n') {
        await this.term.print(`${c}\n`);
        return c;
      }
      if (k === '\x03') {
        await this.term.print('\n');
        if (allowCancel) return 'cancel';
        return 'n';
      }
    }
  }
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : text + '\n';
}
