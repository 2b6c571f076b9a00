/**
 * The Juniper NetScreen dialect (ScreenOS 6.x), on the shared device core (dialect.ts). Sources,
 * and which wordings are documented and which are best guesses: juniper-netscreen-config.ts.
 *
 * Behaviour from the "ScreenOS CLI Reference Guide" (6.x) and "Concepts & Examples ScreenOS
 * Reference Guide, Volume 2: Fundamentals — Administration":
 * - Every login names an admin ("login: " / "password: " over Telnet, the SSH user otherwise):
 *   the root admin (`set admin name`, `set admin password`) or another admin
 *   (`set admin user NAME password PASS privilege all|read-only`). The prompt is `hostname-> `.
 * - There is no configuration mode: `set` and `unset` change the running configuration at once
 *   (the next login needs the new password); `save` writes it to flash, the startup configuration.
 * - The root admin may change every admin; a read-write admin (privilege all) only itself, and
 *   not its privilege; a read-only admin has only `get` (and `ping`), so `set` is unknown to it.
 * - `exit` with unsaved changes asks "Configuration modified, save? [y]/n " (one key; Enter is y).
 * - `set console page 0` turns paging off ("--- more --- " otherwise); the setting is configuration.
 * - A factory device may ask, at the first login, to accept the license ("Accept this agreement
 *   y/[n] "); anything but y ends the session.
 * - Keywords may be abbreviated to any unique prefix (`get conf`, `set ad us`).
 */
import { keyword, words } from './cli-words.js';
import type { Dialect, LoginInfo, Terminal } from './dialect.js';
import {
  admin,
  checkPassword,
  copyConfig,
  DEFAULT_PAGE,
  type NetscreenConfig,
  type Privilege,
  render,
  renderUsers,
  sameConfig,
  texts,
} from './juniper-netscreen-config.js';

export interface JuniperNetscreenOptions {
  /** Default "ns". */
  readonly hostname?: string;
  /** The root admin; default the factory "netscreen" / "netscreen". */
  readonly rootName?: string;
  readonly rootPassword?: string;
  /** Other admins, in both configurations at start. */
  readonly admins?: readonly { readonly name: string; readonly password: string; readonly privilege: Privilege }[];
  /** A factory device whose first login must accept the license; default false. */
  readonly licensePending?: boolean;
}

/** The dialect plus the hooks a test reads and sets. */
export interface JuniperNetscreen extends Dialect {
  /** Every command line the device did not know, as typed. */
  readonly unexpected: string[];
  running(): NetscreenConfig;
  startup(): NetscreenConfig;
  /** `get config` for the running and the saved configuration. */
  runningText(): string;
  startupText(): string;
  /** Sets an admin's password in both configurations, as the device was found ('root' for the root admin). */
  setAdmin(name: string, password: string, privilege: Privilege | 'root'): void;
  /** A reset: the saved configuration becomes the running one. */
  reload(): void;
  /** Whether the license was accepted (always true unless `licensePending`). */
  readonly licenseAccepted: boolean;
}

interface Grant {
  readonly name: string;
}

interface State {
  running: NetscreenConfig;
  startup: NetscreenConfig;
  licenseAccepted: boolean;
}

export function juniperNetscreen(options: JuniperNetscreenOptions = {}): JuniperNetscreen {
  const rootName = options.rootName ?? 'netscreen';
  const running: NetscreenConfig = {
    hostname: options.hostname ?? 'ns',
    rootName,
    root: admin(rootName, options.rootPassword ?? 'netscreen', 'all'),
    users: new Map((options.admins ?? []).map((a) => [a.name, admin(a.name, a.password, a.privilege)])),
    consolePage: DEFAULT_PAGE,
  };
  const state: State = { running, startup: copyConfig(running), licenseAccepted: !options.licensePending };
  const unexpected: string[] = [];

  return {
    name: 'juniper-netscreen',
    login: {
      usernameRequired: () => true,
      usernamePrompt: texts.usernamePrompt,
      passwordPrompt: texts.passwordPrompt,
      failed: texts.loginFailed,
      attempts: 3,
      banner: () => texts.banner,
      authenticate: (username, password) => authenticate(state.running, username, password),
    },
    paging: { lines: DEFAULT_PAGE, more: texts.more, erase: '\r' + ' '.repeat(texts.more.length) + '\r' },
    session: (term, login) => new NetscreenSession(term, login, state, unexpected).run(),
    unexpected,
    running: () => copyConfig(state.running),
    startup: () => copyConfig(state.startup),
    runningText: () => render(state.running),
    startupText: () => render(state.startup),
    setAdmin(name, password, privilege) {
      for (const c of [state.running, state.startup]) {
        if (privilege === 'root') {
          c.rootName = name;
          c.root = admin(name, password, 'all');
        } else {
          c.users.set(name, admin(name, password, privilege));
        }
      }
    },
    reload() {
      state.running = copyConfig(state.startup);
    },
    get licenseAccepted() {
      return state.licenseAccepted;
    },
  };
}

function authenticate(c: NetscreenConfig, username: string | undefined, password: string): Grant | undefined {
  if (username === undefined) return undefined;
  const a = username === c.rootName ? c.root : c.users.get(username);
  return a && checkPassword(a, password) ? { name: username } : undefined;
}

type Role = 'root' | Privilege;

class NetscreenSession {
  /** The admin logged in (follows `set admin name` when the root renames itself). */
  #name: string;

  constructor(
    private readonly term: Terminal,
    login: LoginInfo,
    private readonly state: State,
    private readonly unexpected: string[],
  ) {
    this.#name = (login.grant as Grant).name;
  }

  get #role(): Role {
    const c = this.state.running;
    if (this.#name === c.rootName) return 'root';
    return c.users.get(this.#name)?.privilege ?? 'read-only';
  }

  async run(): Promise<void> {
    if (!this.state.licenseAccepted) {
      await this.term.print(texts.license);
      const k = await this.term.key(texts.accept);
      if (k === undefined) return;
      const yes = k.toLowerCase() === 'y';
      await this.term.print(yes ? 'y\n' : '\n');
      if (!yes) return this.term.close();
      this.state.licenseAccepted = true;
    }
    this.term.pageLength = this.state.running.consolePage;
    while (!this.term.closed) {
      const line = await this.term.read(texts.prompt(this.state.running.hostname));
      if (line === undefined) return;
      if (line.trim() === '') continue;
      await this.#command(line, words(line));
    }
  }

  async #command(line: string, w: readonly string[]): Promise<void> {
    const known =
      this.#role === 'read-only' ? (['exit', 'get'] as const) : (['exit', 'get', 'save', 'set', 'unset'] as const);
    switch (keyword<string>(w[0], known)) {
      case 'exit':
        if (w.length > 1) return this.#unknown(line, w[1]!);
        return this.#exit();
      case 'get':
        return this.#get(line, w);
      case 'save':
        if (w[1] !== undefined && !keyword(w[1], ['config'] as const)) return this.#unknown(line, w[1]);
        if (w.length > 2) return this.#unknown(line, w[2]!);
        this.state.startup = copyConfig(this.state.running);
        return this.term.print(texts.save);
      case 'set':
        return this.#set(line, w);
      case 'unset':
        return this.#unset(line, w);
      default:
        return this.#unknown(line, w[0]!);
    }
  }

  async #unknown(line: string, word: string): Promise<void> {
    this.unexpected.push(line);
    await this.term.print(texts.unknown(word));
  }

  async #incomplete(line: string): Promise<void> {
    this.unexpected.push(line);
    await this.term.print(texts.incomplete);
  }

  async #get(line: string, w: readonly string[]): Promise<void> {
    if (w[1] === undefined) return this.#incomplete(line);
    const what = keyword(w[1], ['admin', 'config'] as const);
    if (what === undefined) return this.#unknown(line, w[1]);
    if (what === 'config') {
      if (w.length > 2) return this.#unknown(line, w[2]!);
      return this.term.print(render(this.state.running));
    }
    if (w[2] === undefined) return this.#incomplete(line);
    if (!keyword(w[2], ['user'] as const)) return this.#unknown(line, w[2]);
    if (w.length > 3) return this.#unknown(line, w[3]!);
    return this.term.print(renderUsers(this.state.running));
  }

  async #set(line: string, w: readonly string[]): Promise<void> {
    const c = this.state.running;
    if (w[1] === undefined) return this.#incomplete(line);
    const what = keyword(w[1], ['admin', 'console', 'hostname'] as const);
    if (what === 'hostname') {
      if (w[2] === undefined) return this.#incomplete(line);
      if (w.length > 3) return this.#unknown(line, w[3]!);
      c.hostname = w[2];
      return;
    }
    if (what === 'console') {
      if (w[2] === undefined) return this.#incomplete(line);
      if (!keyword(w[2], ['page'] as const)) return this.#unknown(line, w[2]);
      if (w[3] === undefined) return this.#incomplete(line);
      if (!/^\d+$/.test(w[3])) return this.#unknown(line, w[3]);
      if (w.length > 4) return this.#unknown(line, w[4]!);
      c.consolePage = Number(w[3]);
      this.term.pageLength = c.consolePage;
      return;
    }
    if (what !== 'admin') return this.#unknown(line, w[1]);
    if (w[2] === undefined) return this.#incomplete(line);
    const field = keyword(w[2], ['name', 'password', 'user'] as const);
    if (field === undefined) return this.#unknown(line, w[2]);
    if (field === 'user') return this.#setUser(line, w.slice(3));
    const value = w[3];
    if (value === undefined) return this.#incomplete(line);
    if (w.length > 4) return this.#unknown(line, w[4]!);
    if (this.#role !== 'root') return this.term.print(texts.permission);
    if (!(await this.#allowed())) return;
    if (field === 'name') {
      // The hash keeps the name it was made with: the renamed root logs in with its old password.
      if (this.#name === c.rootName) this.#name = value;
      c.rootName = value;
      this.term.applied('admin name');
    } else {
      c.root = admin(c.rootName, value, 'all');
      this.term.applied('admin password');
    }
  }

  /** `set admin user NAME password PASS [privilege all|read-only]`. */
  async #setUser(line: string, a: readonly string[]): Promise<void> {
    const c = this.state.running;
    const [name, passwordWord, password, privilegeWord, privilegeValue] = a;
    if (name === undefined || passwordWord === undefined) return this.#incomplete(line);
    if (!keyword(passwordWord, ['password'] as const)) return this.#unknown(line, passwordWord);
    if (password === undefined) return this.#incomplete(line);
    let privilege: Privilege | undefined;
    if (privilegeWord !== undefined) {
      if (!keyword(privilegeWord, ['privilege'] as const)) return this.#unknown(line, privilegeWord);
      if (privilegeValue === undefined) return this.#incomplete(line);
      privilege = keyword(privilegeValue, ['all', 'read-only'] as const);
      if (privilege === undefined) return this.#unknown(line, privilegeValue);
      if (a.length > 5) return this.#unknown(line, a[5]!);
    }
    if (name === c.rootName) return this.term.print(texts.rootName(name));
    const existing = c.users.get(name);
    const role = this.#role;
    const self = name === this.#name && existing !== undefined;
    if (role !== 'root' && !(self && (privilege === undefined || privilege === existing.privilege))) {
      return this.term.print(texts.permission);
    }
    if (!(await this.#allowed())) return;
    c.users.set(name, admin(name, password, privilege ?? existing?.privilege ?? 'read-only'));
    this.term.applied(`admin user ${name}`);
  }

  async #unset(line: string, w: readonly string[]): Promise<void> {
    const c = this.state.running;
    if (w[1] === undefined) return this.#incomplete(line);
    const what = keyword(w[1], ['admin', 'console'] as const);
    if (what === 'console') {
      if (w[2] === undefined) return this.#incomplete(line);
      if (!keyword(w[2], ['page'] as const)) return this.#unknown(line, w[2]);
      if (w.length > 3) return this.#unknown(line, w[3]!);
      c.consolePage = DEFAULT_PAGE;
      this.term.pageLength = DEFAULT_PAGE;
      return;
    }
    if (what !== 'admin') return this.#unknown(line, w[1]);
    if (w[2] === undefined) return this.#incomplete(line);
    if (!keyword(w[2], ['user'] as const)) return this.#unknown(line, w[2]);
    const name = w[3];
    if (name === undefined) return this.#incomplete(line);
    if (w.length > 4) return this.#unknown(line, w[4]!);
    if (this.#role !== 'root') return this.term.print(texts.permission);
    if (!c.users.has(name)) return this.term.print(texts.notFound(name));
    if (!(await this.#allowed())) return;
    c.users.delete(name);
    this.term.applied(`unset admin user ${name}`);
  }

  /** Consults an armed refusal before a credential change; prints it when there is one. */
  async #allowed(): Promise<boolean> {
    const refused = this.term.refusal();
    if (refused === undefined) return true;
    await this.term.print(refused.endsWith('\n') ? refused : refused + '\n');
    return false;
  }

  /** `exit`: asks to save unsaved changes (Enter or y saves, n does not), then logs out. */
  async #exit(): Promise<void> {
    if (this.#role !== 'read-only' && !sameConfig(this.state.running, this.state.startup)) {
      let prompt: string = texts.modified;
      for (;;) {
        const k = await this.term.key(prompt);
        if (k === undefined) return;
        prompt = '';
        const c = k.toLowerCase();
        if (c === 'n') {
          await this.term.print('n\n');
          break;
        }
        if (c === 'y' || k === '\r' || k === '\n') {
          await this.term.print('y\n');
          this.state.startup = copyConfig(this.state.running);
          await this.term.print(texts.save);
          break;
        }
      }
    }
    this.term.close();
  }
}
