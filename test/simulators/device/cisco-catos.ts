/**
 * A Cisco CatOS (Catalyst 4000/5000/6000 supervisor) dialect for the device simulator core,
 * written from "Catalyst 6500 Series Software Command Reference (CatOS)" and "Catalyst 5000/6000
 * Family Command Reference": `enable`, `disable`, `set password`, `set enablepass`,
 * `set localuser`, `clear localuser`, `set authentication login local`, `set system name`,
 * `set length`, `show config`, `clear config`, `quit`/`exit`/`logout`.
 *
 * Wordings from the documentation (and its examples, also reproduced in Cisco Press's "Cisco LAN
 * Switching", example 4-11): the prompts `Console> ` and `Console> (enable) `, "Enter password: ",
 * "Enter old password: ", "Enter new password: ", "Retype new password: ", "Password changed.",
 * "Sorry password incorrect.", "System name set.", `Unknown command "xyz".  Use 'help' for more
 * info.`. Best guesses (not found in what we could read): "Sorry password do not match.", the
 * `set localuser` / `clear localuser` / `set authentication` / `set length` confirmations, the
 * `Usage:` lines, "Cisco Systems Console" as the Telnet banner, a refused login answered like a
 * refused `enable`, and privileged commands typed in normal mode answered as unknown ones.
 * The interactive form of `set localuser` is not in the references we read, so it is not taken.
 */
import type { Dialect, DialectLogin, LoginInfo, Terminal } from './dialect.js';
import { catosHash } from './cisco-hashes.js';
import {
  CATOS_DEFAULT_LENGTH,
  CATOS_DEFAULT_NAME,
  defaultCatosState,
  renderCatosConfig,
  verifyCatos,
  type CatosState,
} from './cisco-catos-config.js';
import { blankWords as words, intIn, keyword as matchKeyword } from './cli-words.js';

export interface CiscoCatosOptions {
  /** `set system name`; the prompt shows "Console" while none is set. */
  readonly systemName?: string;
  /** The login password (`set password`); default the factory's empty password. */
  readonly loginPassword?: string;
  /** The enable password (`set enablepass`); default empty. */
  readonly enablePassword?: string;
  /** Local users (`set localuser user NAME password PASS privilege N`). */
  readonly localUsers?: readonly { readonly name: string; readonly password: string; readonly privilege?: number }[];
  /** `set authentication login local enable`: logins need a local user name. Default off. */
  readonly localLogin?: boolean;
}

/** Who a login is, as `authenticate` grants it. */
interface CatosGrant {
  readonly user: string | undefined;
}

const INCORRECT = 'Sorry password incorrect.\n';
const MISMATCH = 'Sorry password do not match.\n';

/** A simulated CatOS switch: the Dialect the core serves, and hooks for tests. */
export class CiscoCatos implements Dialect {
  readonly name = 'cisco-catos';
  /** Every line the switch did not take (unknown, not allowed in the mode, or malformed), as typed. */
  readonly unexpected: string[] = [];
  readonly login: DialectLogin;
  #state: CatosState;
  /** NVRAM: rewritten after every change, as CatOS does. */
  #nvram: string;

  constructor(options: CiscoCatosOptions = {}) {
    const s = defaultCatosState();
    s.systemName = options.systemName ?? '';
    s.loginHash = catosHash(options.loginPassword ?? '');
    s.enableHash = catosHash(options.enablePassword ?? '');
    s.localLogin = options.localLogin ?? false;
    for (const u of options.localUsers ?? []) s.users.set(u.name, { hash: catosHash(u.password), privilege: u.privilege ?? 0 });
    this.#state = s;
    this.#nvram = renderCatosConfig(s);
    this.login = this.#makeLogin();
  }

  get paging(): Dialect['paging'] {
    return {
      lines: this.#state.defaultLength,
      more: '--More--',
      erase: '\b'.repeat(8) + ' '.repeat(8) + '\b'.repeat(8),
      quitKeys: ['q', '\x03'],
    };
  }

  // Test hooks.

  /** Adds or replaces a local user, as `set localuser` would (NVRAM written). */
  addUser(name: string, password: string, privilege = 0): void {
    this.#state.users.set(name, { hash: catosHash(password), privilege });
    this.#written();
  }
  /** Removes a local user, as `clear localuser` would (NVRAM written); nothing when it is not there. */
  removeUser(name: string): void {
    this.#state.users.delete(name);
    this.#written();
  }
  setLoginPassword(password: string): void {
    this.#state.loginHash = catosHash(password);
    this.#written();
  }
  setEnablePassword(password: string): void {
    this.#state.enableHash = catosHash(password);
    this.#written();
  }
  setLocalLogin(on: boolean): void {
    this.#state.localLogin = on;
    this.#written();
  }
  /** `show config` of the running configuration. */
  running(): string {
    return renderCatosConfig(this.#state);
  }
  /** The configuration in NVRAM (the same as running on CatOS, which writes every change). */
  startup(): string {
    return this.#nvram;
  }
  /** Whether `password` is the login password, the enable password, or a local user's. */
  loginPasswordIs(password: string): boolean {
    return verifyCatos(password, this.#state.loginHash);
  }
  enablePasswordIs(password: string): boolean {
    return verifyCatos(password, this.#state.enableHash);
  }
  userPasswordIs(name: string, password: string): boolean {
    const u = this.#state.users.get(name);
    return u !== undefined && verifyCatos(password, u.hash);
  }

  #written(): void {
    this.#nvram = renderCatosConfig(this.#state);
  }

  #makeLogin(): DialectLogin {
    const state = (): CatosState => this.#state;
    return {
      usernameRequired: () => state().localLogin,
      usernamePrompt: 'Username: ',
      get passwordPrompt(): string {
        return state().localLogin ? 'Password: ' : 'Enter password: ';
      },
      failed: INCORRECT,
      attempts: 3,
      banner: () => '\nCisco Systems Console\n\n',
      authenticate: (username: string | undefined, password: string): CatosGrant | undefined => {
        const s = state();
        if (s.localLogin) {
          const u = username === undefined ? undefined : s.users.get(username);
          return u !== undefined && verifyCatos(password, u.hash) ? { user: username } : undefined;
        }
        // Without local authentication the login is the switch's password; an SSH user name is not checked.
        return verifyCatos(password, s.loginHash) ? { user: username } : undefined;
      },
    };
  }

  async session(term: Terminal, _login: LoginInfo): Promise<void> {
    let enabled = false;
    for (;;) {
      const name = this.#state.systemName === '' ? CATOS_DEFAULT_NAME : this.#state.systemName;
      const line = await term.read(enabled ? `${name}> (enable) ` : `${name}> `);
      if (line === undefined || term.closed) return;
      const w = words(line);
      if (w.length === 0) continue;
      const verb = matchKeyword(w[0], ['enable', 'disable', 'quit', 'exit', 'logout', 'set', 'clear', 'show', 'help'] as const);
      switch (verb) {
        case 'quit':
        case 'exit':
        case 'logout':
          term.close();
          return;
        case 'enable':
          if (!enabled) enabled = await this.#enable(term);
          continue;
        case 'disable':
          enabled = false;
          continue;
        case 'help':
          await term.print(enabled ? HELP_ENABLE : HELP_NORMAL);
          continue;
        case 'set':
          if (await this.#set(term, w, line, enabled)) continue;
          break;
        case 'clear':
          if (enabled && (await this.#clear(term, w, line))) continue;
          break;
        case 'show':
          if (enabled && matchKeyword(w[1], ['config'] as const) && (w.length === 2 || (w.length === 3 && matchKeyword(w[2], ['all'] as const)))) {
            await term.print(renderCatosConfig(this.#state, w.length === 3));
            continue;
          }
          break;
        case undefined:
          break;
      }
      await this.#unknown(term, line);
    }
  }

  async #unknown(term: Terminal, line: string): Promise<void> {
    this.unexpected.push(line);
    await term.print(`Unknown command "${line.trim()}".  Use 'help' for more info.\n`);
  }

  async #usage(term: Terminal, line: string, usage: string): Promise<true> {
    this.unexpected.push(line);
    await term.print(`Usage: ${usage}\n`);
    return true;
  }

  /** Prints an armed refusal (the device refusing for its own reasons); true when there was one. */
  async #refused(term: Terminal): Promise<boolean> {
    const refused = term.refusal();
    if (refused === undefined) return false;
    await term.print(refused.endsWith('\n') ? refused : `${refused}\n`);
    return true;
  }

  async #enable(term: Terminal): Promise<boolean> {
    const pw = await term.read('Enter password: ', { echo: false });
    if (pw === undefined) return false;
    if (verifyCatos(pw, this.#state.enableHash)) return true;
    await term.print(INCORRECT);
    return false;
  }

  /** `set ...`; false when the line is not a command this mode takes. */
  async #set(term: Terminal, w: string[], line: string, enabled: boolean): Promise<boolean> {
    const what = matchKeyword(w[1], ['length', 'password', 'enablepass', 'localuser', 'system', 'authentication'] as const);
    if (what === 'length') return this.#setLength(term, w, line, enabled);
    if (!enabled || what === undefined) return false;
    switch (what) {
      case 'password':
      case 'enablepass':
        if (w.length !== 2) return this.#usage(term, line, `set ${what}`);
        await this.#changePassword(term, what);
        return true;
      case 'localuser':
        return this.#setLocalUser(term, w, line);
      case 'system': {
        if (!matchKeyword(w[2], ['name'] as const) || w.length > 4) return this.#usage(term, line, 'set system name [name_string]');
        this.#state.systemName = w[3] ?? '';
        this.#written();
        await term.print(w[3] === undefined ? 'System name cleared.\n' : 'System name set.\n');
        return true;
      }
      case 'authentication': {
        const state = matchKeyword(w[4], ['enable', 'disable'] as const);
        const sessions = w[5] === undefined ? 'all' : matchKeyword(w[5], ['console', 'telnet', 'http', 'all'] as const);
        if (!matchKeyword(w[2], ['login'] as const) || !matchKeyword(w[3], ['local'] as const) || !state || !sessions || w.length > 6) {
          return this.#usage(term, line, 'set authentication login local <enable|disable> [console|telnet|http|all]');
        }
        this.#state.localLogin = state === 'enable';
        this.#written();
        const where = sessions === 'all' ? 'console, telnet, and http sessions' : `${sessions} session`;
        await term.print(`local login authentication set to ${state} for ${where}.\n`);
        return true;
      }
    }
  }

  async #setLength(term: Terminal, w: string[], line: string, enabled: boolean): Promise<boolean> {
    const n = intIn(w[2], 0, 512);
    const asDefault = w.length === 4 && matchKeyword(w[3], ['default'] as const) !== undefined;
    if (n === undefined || (w.length === 4 && !asDefault) || w.length > 4 || (asDefault && !enabled)) {
      return this.#usage(term, line, 'set length <screen_length> [default]  (screen_length = 0, 5..512, 0 to disable paging)');
    }
    if (n !== 0 && n < 5) return this.#usage(term, line, 'set length <screen_length> [default]  (screen_length = 0, 5..512, 0 to disable paging)');
    term.pageLength = n;
    if (asDefault) {
      this.#state.defaultLength = n;
      this.#written();
      await term.print(`Screen length set to ${n}.\n`);
    } else {
      await term.print(`Screen length for this session set to ${n}.\n`);
    }
    return true;
  }

  /** `set password` / `set enablepass`: old, new, retype; nothing changes unless all three agree. */
  async #changePassword(term: Terminal, which: 'password' | 'enablepass'): Promise<void> {
    const current = which === 'password' ? this.#state.loginHash : this.#state.enableHash;
    const old = await term.read('Enter old password: ', { echo: false });
    if (old === undefined) return;
    if (!verifyCatos(old, current)) {
      await term.print(INCORRECT);
      return;
    }
    const next = await term.read('Enter new password: ', { echo: false });
    if (next === undefined) return;
    const again = await term.read('Retype new password: ', { echo: false });
    if (again === undefined) return;
    if (next !== again) {
      await term.print(MISMATCH);
      return;
    }
    if (await this.#refused(term)) return;
    if (which === 'password') this.#state.loginHash = catosHash(next);
    else this.#state.enableHash = catosHash(next);
    this.#written();
    term.applied(which === 'password' ? 'login password' : 'enable password');
    if (term.closed) return;
    await term.print('Password changed.\n');
  }

  /** `set localuser user NAME password PASS [privilege N]` and `set localuser user NAME privilege N`. */
  async #setLocalUser(term: Terminal, w: string[], line: string): Promise<boolean> {
    const usage = 'set localuser user <username> password <password> [privilege <level>]\n       set localuser user <username> privilege <level>';
    const name = w[3];
    if (!matchKeyword(w[2], ['user'] as const) || name === undefined || name.length > 65) return this.#usage(term, line, usage);
    const key = matchKeyword(w[4], ['password', 'privilege'] as const);
    let password: string | undefined;
    let privilege: number | undefined;
    let rest = w.slice(4);
    if (key === 'password') {
      password = rest[1];
      rest = rest.slice(2);
    }
    if (rest.length > 0) {
      if (!matchKeyword(rest[0], ['privilege'] as const) || rest.length !== 2) return this.#usage(term, line, usage);
      privilege = intIn(rest[1], 0, 15);
      if (privilege === undefined) return this.#usage(term, line, usage);
    }
    if (key === undefined || (key === 'password' && password === undefined)) return this.#usage(term, line, usage);
    const existing = this.#state.users.get(name);
    if (password === undefined && existing === undefined) {
      await term.print(`Local user ${name} does not exist.\n`);
      this.unexpected.push(line);
      return true;
    }
    if (await this.#refused(term)) return true;
    this.#state.users.set(name, {
      hash: password === undefined ? existing!.hash : catosHash(password),
      privilege: privilege ?? existing?.privilege ?? 0,
    });
    this.#written();
    term.applied(`localuser ${name}`);
    if (term.closed) return true;
    await term.print(existing === undefined ? `Added local user ${name}.\n` : `Updated local user ${name}.\n`);
    return true;
  }

  /** `clear localuser NAME`, `clear config all`. */
  async #clear(term: Terminal, w: string[], line: string): Promise<boolean> {
    const what = matchKeyword(w[1], ['localuser', 'config'] as const);
    if (what === 'localuser') {
      const name = w[2];
      if (name === undefined || w.length !== 3) return this.#usage(term, line, 'clear localuser <username>');
      if (!this.#state.users.has(name)) {
        this.unexpected.push(line);
        await term.print(`Local user ${name} does not exist.\n`);
        return true;
      }
      if (await this.#refused(term)) return true;
      this.#state.users.delete(name);
      this.#written();
      term.applied(`localuser ${name} cleared`);
      await term.print(`Local user ${name} cleared.\n`);
      return true;
    }
    if (what === 'config') {
      if (w.length !== 3 || !matchKeyword(w[2], ['all'] as const)) return this.#usage(term, line, 'clear config all');
      const answer = await term.read(
        'This command will clear all configuration in NVRAM.\nThis command will cause ifIndex to be reassigned on the next system startup.\nDo you want to continue (y/n) [n]? ',
      );
      if (answer === undefined) return true;
      if (answer.trim().toLowerCase() !== 'y') return true;
      if (await this.#refused(term)) return true;
      this.#state = defaultCatosState();
      this.#written();
      term.applied('configuration cleared');
      if (term.pageLength !== 0) term.pageLength = CATOS_DEFAULT_LENGTH;
      await term.print('........\nSystem configuration cleared.\n');
      return true;
    }
    return false;
  }
}

const HELP_NORMAL = [
  'Commands:',
  '----------------------------------------------------------------------------',
  'enable              Enable privileged mode',
  'exit                Exit from the Admin session',
  'help                Show this help screen',
  'logout              Exit from the Admin session',
  'quit                Exit from the Admin session',
  'set                 Set commands, use \'set help\' for more info',
  '',
].join('\n');

const HELP_ENABLE = [
  'Commands:',
  '----------------------------------------------------------------------------',
  'clear               Clear, use \'clear help\' for more info',
  'disable             Disable privileged mode',
  'enable              Enable privileged mode',
  'exit                Exit from the Admin session',
  'help                Show this help screen',
  'logout              Exit from the Admin session',
  'quit                Exit from the Admin session',
  'set                 Set commands, use \'set help\' for more info',
  'show                Show commands, use \'show help\' for more info',
  '',
].join('\n');

/** A simulated CatOS switch with its factory defaults (empty passwords) unless options say otherwise. */
export function ciscoCatos(options?: CiscoCatosOptions): CiscoCatos {
  return new CiscoCatos(options);
}
