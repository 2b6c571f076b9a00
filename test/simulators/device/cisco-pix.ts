/**
 * A Cisco PIX Firewall 6.3 dialect for the device simulator core, written from "Cisco PIX
 * Firewall Command Reference, Version 6.3" (`passwd`, `enable`, `enable password`, `username`,
 * `aaa authentication`, `configure terminal`, `write memory`, `write terminal`,
 * `show running-config`, `show configure`, `pager`, `hostname`, `exit`/`quit`) and "Cisco PIX
 * Firewall and VPN Configuration Guide, Version 6.3" (Telnet and SSH access: the SSH user "pix"
 * with the `passwd` password unless `aaa authentication ssh console LOCAL`; levels 2 and up get
 * the `#` prompt).
 *
 * The reference's own notes: commands abbreviate ("co t" to start configuration mode, "wr t" to
 * list the configuration, "wr m" to write to Flash memory), and a command entered without its
 * arguments prints a quick summary of its syntax (our `Usage:` lines; their wording is ours).
 *
 * Wordings from the documentation: the prompts `pixfirewall> `, `pixfirewall# `,
 * `pixfirewall(config)# `; "Password: " for `enable`; "Type help or '?' for a list of available
 * commands." (after login and after a line the firewall does not know); `write memory`'s
 * "Building configuration...", "Cryptochecksum: ..." and "[OK]". Best guesses: "PIX passwd: " as
 * the Telnet login prompt (PIX 6 releases print it; management tools such as Netspoc wait for
 * "PIX passwd:|Password:"), "Invalid password" after a refused `enable` or login (three tries),
 * "Logoff" on leaving, the `Usage:` lines for a known command with bad arguments, and `end` not
 * taken (6.3 leaves configuration mode with `exit` or `quit`). Configuration commands answer
 * nothing on success, as the reference's examples show.
 */
import type { Dialect, DialectLogin, LoginInfo, Terminal } from './dialect.js';
import { pixHash } from './cisco-hashes.js';
import {
  copyPixState,
  defaultPixState,
  pixChecksum,
  renderPixConfig,
  PIX_DEFAULT_USER_PRIVILEGE,
  type PixState,
} from './cisco-pix-config.js';
import { blankWords as words, intIn, keyword as matchKeyword } from './cli-words.js';

export interface CiscoPixOptions {
  readonly hostname?: string;
  /** `passwd`; default "cisco", the factory's. */
  readonly passwd?: string;
  /** `enable password` (level 15); default empty, the factory's. */
  readonly enablePassword?: string;
  readonly users?: readonly { readonly name: string; readonly password: string; readonly privilege?: number }[];
  /** `aaa authentication ssh|telnet console LOCAL`. */
  readonly aaaLocal?: readonly ('ssh' | 'telnet')[];
}

const UNKNOWN = "Type help or '?' for a list of available commands.\n";
const INVALID = 'Invalid password\n';
const ENCODED = /^[./0-9A-Za-z]{16}$/;

type Mode = 'user' | 'privileged' | 'config';

const TOP: Record<Mode, readonly string[]> = {
  user: ['enable', 'exit', 'help', 'login', 'quit'],
  privileged: ['configure', 'disable', 'enable', 'exit', 'help', 'no', 'pager', 'quit', 'show', 'write'],
  config: [
    'aaa', 'configure', 'disable', 'enable', 'exit', 'help', 'hostname', 'interface', 'ip', 'name', 'nameif',
    'names', 'no', 'pager', 'passwd', 'quit', 'show', 'ssh', 'telnet', 'username', 'write',
  ],
};
const SHOW = ['aaa', 'arp', 'configure', 'enable', 'pager', 'passwd', 'rip', 'route', 'running-config', 'ssh', 'telnet', 'username', 'version'] as const;
const WRITE = ['erase', 'floppy', 'memory', 'net', 'standby', 'terminal'] as const;

/** A simulated PIX 6.3 firewall: the Dialect the core serves, and hooks for tests. */
export class CiscoPix implements Dialect {
  readonly name = 'cisco-pix';
  /** Every line the firewall did not take (unknown, not in this mode, or malformed), as typed. */
  readonly unexpected: string[] = [];
  readonly login: DialectLogin;
  #running: PixState;
  /** The configuration in Flash: written only by `write memory`. */
  #startup: PixState;

  constructor(options: CiscoPixOptions = {}) {
    const s = defaultPixState();
    if (options.hostname !== undefined) s.hostname = options.hostname;
    if (options.passwd !== undefined) s.passwdHash = pixHash(options.passwd);
    if (options.enablePassword !== undefined) s.enable.set(15, pixHash(options.enablePassword));
    for (const u of options.users ?? []) s.users.set(u.name, { hash: pixHash(u.password), privilege: u.privilege ?? PIX_DEFAULT_USER_PRIVILEGE });
    for (const t of options.aaaLocal ?? []) s.aaaLocal.add(t);
    this.#running = s;
    this.#startup = copyPixState(s);
    this.login = this.#makeLogin();
  }

  get paging(): Dialect['paging'] {
    return { lines: this.#running.pagerLines, more: '<--- More --->', erase: '\r' + ' '.repeat(14) + '\r', quitKeys: ['q', '\x03'] };
  }

  // Test hooks. They change the running configuration and the one in Flash alike, as a device
  // set up before the test would have them.

  addUser(name: string, password: string, privilege = PIX_DEFAULT_USER_PRIVILEGE): void {
    this.#both((s) => s.users.set(name, { hash: pixHash(password), privilege }));
  }
  /** Removes a local user from both configurations, as `no username` and `write memory` would. */
  removeUser(name: string): void {
    this.#both((s) => s.users.delete(name));
  }
  setPasswd(password: string): void {
    this.#both((s) => (s.passwdHash = pixHash(password)));
  }
  setEnablePassword(password: string, level = 15): void {
    this.#both((s) => s.enable.set(level, pixHash(password)));
  }
  setAaaLocal(transport: 'ssh' | 'telnet', on: boolean): void {
    this.#both((s) => (on ? s.aaaLocal.add(transport) : s.aaaLocal.delete(transport)));
  }
  /** `write terminal` / `show running-config`, without "Building configuration...". */
  running(): string {
    return renderPixConfig(this.#running);
  }
  /** `show configure`: the configuration `write memory` last saved. */
  startup(): string {
    return renderPixConfig(this.#startup);
  }
  passwdIs(password: string): boolean {
    return this.#running.passwdHash === pixHash(password);
  }
  enablePasswordIs(password: string, level = 15): boolean {
    return this.#running.enable.get(level) === pixHash(password);
  }
  userPasswordIs(name: string, password: string): boolean {
    return this.#running.users.get(name)?.hash === pixHash(password);
  }

  #both(change: (s: PixState) => unknown): void {
    change(this.#running);
    change(this.#startup);
  }

  #makeLogin(): DialectLogin {
    const running = (): PixState => this.#running;
    return {
      usernameRequired: () => running().aaaLocal.has('telnet'),
      usernamePrompt: 'Username: ',
      get passwordPrompt(): string {
        return running().aaaLocal.has('telnet') ? 'Password: ' : 'PIX passwd: ';
      },
      failed: INVALID,
      attempts: 3,
      authenticate: (username: string | undefined, password: string, via?: 'ssh' | 'telnet'): { level: number } | undefined => {
        const s = running();
        const transport = via ?? (username === undefined ? 'telnet' : 'ssh');
        const hash = pixHash(password);
        // Under `aaa authentication <transport> console LOCAL`: the local users.
        if (s.aaaLocal.has(transport)) return username !== undefined && s.users.get(username)?.hash === hash ? { level: 1 } : undefined;
        // Otherwise the `passwd` password: alone over Telnet, with the user name "pix" over SSH.
        if (transport === 'ssh' && username !== 'pix') return undefined;
        return hash === s.passwdHash ? { level: 1 } : undefined;
      },
    };
  }

  async session(term: Terminal, _login: LoginInfo): Promise<void> {
    let mode: Mode = 'user';
    await term.print(UNKNOWN);
    for (;;) {
      const h = this.#running.hostname;
      const prompt = mode === 'user' ? `${h}> ` : mode === 'privileged' ? `${h}# ` : `${h}(config)# `;
      const line = await term.read(prompt);
      if (line === undefined || term.closed) return;
      const w = words(line);
      if (w.length === 0) continue;
      const verb = w[0] === '?' ? 'help' : matchKeyword(w[0], TOP[mode]);
      switch (verb) {
        case 'exit':
        case 'quit':
          if (w.length !== 1) break;
          if (mode === 'config') {
            mode = 'privileged';
            continue;
          }
          await term.print('\nLogoff\n\n');
          term.close();
          return;
        case 'enable':
          if (mode === 'config') {
            if (await this.#enablePassword(term, w, line)) continue;
            break;
          }
          if (w.length > 2) break;
          if (w.length === 2 && intIn(w[1], 0, 15) === undefined) break;
          if (await this.#enable(term, w.length === 2 ? Number(w[1]) : 15)) mode = 'privileged';
          continue;
        case 'disable':
          mode = 'user';
          continue;
        case 'help':
          await term.print(HELP[mode]);
          continue;
        case 'configure':
          if (w.length === 2 && matchKeyword(w[1], ['floppy', 'memory', 'net', 'terminal'] as const) === 'terminal') {
            mode = 'config';
            continue;
          }
          break;
        case 'write':
          if (await this.#write(term, w)) continue;
          break;
        case 'show':
          if (await this.#show(term, w)) continue;
          break;
        case 'pager':
          if (await this.#pager(term, w, line)) continue;
          break;
        case 'no':
          if (await this.#no(term, w, mode)) continue;
          break;
        case 'passwd':
          if (await this.#passwd(term, w, line)) continue;
          break;
        case 'username':
          if (await this.#username(term, w, line)) continue;
          break;
        case 'aaa':
          if (await this.#aaa(term, w, line, true)) continue;
          break;
        case 'hostname':
          if (w.length === 2 && /^[A-Za-z][A-Za-z0-9-]{0,62}$/.test(w[1]!)) {
            this.#running.hostname = w[1]!;
            continue;
          }
          await this.#usage(term, line, 'hostname <newname>');
          continue;
        default:
          break;
      }
      await this.#unknown(term, line);
    }
  }

  async #unknown(term: Terminal, line: string): Promise<void> {
    this.unexpected.push(line);
    await term.print(UNKNOWN);
  }

  async #usage(term: Terminal, line: string, usage: string): Promise<true> {
    this.unexpected.push(line);
    await term.print(`Usage:\t${usage}\n`);
    return true;
  }

  /** Runs `apply` and reports it applied, unless a refusal was armed (then prints it instead). */
  async #change(term: Terminal, what: string, apply: () => void): Promise<void> {
    const refused = term.refusal();
    if (refused !== undefined) {
      await term.print(refused.endsWith('\n') ? refused : `${refused}\n`);
      return;
    }
    apply();
    term.applied(what);
  }

  async #enable(term: Terminal, level: number): Promise<boolean> {
    const hash = this.#running.enable.get(level);
    for (let i = 0; i < 3; i++) {
      const pw = await term.read('Password: ', { echo: false });
      if (pw === undefined) return false;
      if (hash !== undefined && pixHash(pw) === hash && level >= 2) return true;
      await term.print(INVALID);
    }
    return false;
  }

  /** `enable password PASS [level N] [encrypted]` in configuration mode. */
  async #enablePassword(term: Terminal, w: string[], line: string): Promise<boolean> {
    if (matchKeyword(w[1], ['password'] as const) === undefined) return false;
    const usage = 'enable password <pw> [level <level>] [encrypted]';
    const pw = w[2];
    if (pw === undefined) return this.#usage(term, line, usage);
    let level = 15;
    let encrypted = false;
    for (let i = 3; i < w.length; i++) {
      const k = matchKeyword(w[i], ['level', 'encrypted'] as const);
      if (k === 'encrypted' && !encrypted) encrypted = true;
      else if (k === 'level' && intIn(w[i + 1], 0, 15) !== undefined) level = Number(w[++i]);
      else return this.#usage(term, line, usage);
    }
    if (encrypted && !ENCODED.test(pw)) return this.#usage(term, line, usage);
    await this.#change(term, `enable password level ${level}`, () => this.#running.enable.set(level, encrypted ? pw : pixHash(pw)));
    return true;
  }

  /** `passwd PASS [encrypted]`. */
  async #passwd(term: Terminal, w: string[], line: string): Promise<boolean> {
    const pw = w[1];
    const encrypted = w.length === 3 && matchKeyword(w[2], ['encrypted'] as const) !== undefined;
    if (pw === undefined || (w.length === 3 && !encrypted) || w.length > 3 || (encrypted && !ENCODED.test(pw))) {
      return this.#usage(term, line, 'passwd <passwd> [encrypted]');
    }
    await this.#change(term, 'passwd', () => (this.#running.passwdHash = encrypted ? pw : pixHash(pw)));
    return true;
  }

  /** `username NAME password PASS [encrypted] [privilege N]`. */
  async #username(term: Terminal, w: string[], line: string): Promise<boolean> {
    const usage = 'username <name> {nopassword | password <password> [encrypted]} [privilege <level>]';
    const name = w[1];
    if (name === undefined || matchKeyword(w[2], ['nopassword', 'password'] as const) !== 'password' || w[3] === undefined) {
      return this.#usage(term, line, usage);
    }
    const pw = w[3];
    let encrypted = false;
    let privilege = this.#running.users.get(name)?.privilege ?? PIX_DEFAULT_USER_PRIVILEGE;
    for (let i = 4; i < w.length; i++) {
      const k = matchKeyword(w[i], ['encrypted', 'privilege'] as const);
      if (k === 'encrypted' && !encrypted) encrypted = true;
      else if (k === 'privilege' && intIn(w[i + 1], 0, 15) !== undefined) privilege = Number(w[++i]);
      else return this.#usage(term, line, usage);
    }
    if (encrypted && !ENCODED.test(pw)) return this.#usage(term, line, usage);
    await this.#change(term, `username ${name}`, () =>
      this.#running.users.set(name, { hash: encrypted ? pw : pixHash(pw), privilege }),
    );
    return true;
  }

  /** `aaa authentication ssh|telnet console LOCAL` (and its `no` form). */
  async #aaa(term: Terminal, w: string[], line: string, on: boolean): Promise<boolean> {
    const t = matchKeyword(w[2], ['enable', 'http', 'serial', 'ssh', 'telnet'] as const);
    if (
      matchKeyword(w[1], ['authentication', 'authorization', 'accounting'] as const) !== 'authentication' ||
      (t !== 'ssh' && t !== 'telnet') ||
      matchKeyword(w[3], ['console'] as const) === undefined ||
      w[4] !== 'LOCAL' ||
      w.length !== 5
    ) {
      return this.#usage(term, line, 'aaa authentication serial|enable|telnet|ssh|http console <group_tag>');
    }
    if (on) this.#running.aaaLocal.add(t);
    else this.#running.aaaLocal.delete(t);
    return true;
  }

  async #no(term: Terminal, w: string[], mode: Mode): Promise<boolean> {
    const rest = w.slice(1);
    const what = matchKeyword(rest[0], mode === 'config' ? (['aaa', 'pager', 'username'] as const) : (['pager'] as const));
    if (what === 'pager' && rest.length === 1) {
      this.#running.pagerLines = 0;
      term.pageLength = 0;
      return true;
    }
    if (what === 'aaa') return this.#aaa(term, rest, w.join(' '), false);
    if (what === 'username' && rest.length === 2) {
      const name = rest[1]!;
      if (this.#running.users.has(name)) await this.#change(term, `no username ${name}`, () => this.#running.users.delete(name));
      return true;
    }
    return false;
  }

  /** `pager [lines N]`. */
  async #pager(term: Terminal, w: string[], line: string): Promise<boolean> {
    let n = 24;
    if (w.length === 3 && matchKeyword(w[1], ['lines'] as const)) {
      const lines = intIn(w[2], 0, 512);
      if (lines === undefined) return this.#usage(term, line, '[no] pager [lines <lines>]');
      n = lines;
    } else if (w.length !== 1) {
      return this.#usage(term, line, '[no] pager [lines <lines>]');
    }
    this.#running.pagerLines = n;
    term.pageLength = n;
    return true;
  }

  async #write(term: Terminal, w: string[]): Promise<boolean> {
    const what = w.length === 2 ? matchKeyword(w[1], WRITE) : undefined;
    if (what === 'memory') {
      await term.print('Building configuration...\n');
      this.#startup = copyPixState(this.#running);
      const sum = pixChecksum(this.#startup).match(/.{8}/g)!.join(' ');
      await term.print(`Cryptochecksum: ${sum}\n[OK]\n`);
      return true;
    }
    if (what === 'terminal') {
      await term.print(`Building configuration...\n${renderPixConfig(this.#running)}[OK]\n`);
      return true;
    }
    return false;
  }

  async #show(term: Terminal, w: string[]): Promise<boolean> {
    const what = w.length >= 2 ? matchKeyword(w[1], SHOW) : undefined;
    const s = this.#running;
    switch (w.length === 2 ? what : w.length === 3 && what === 'username' ? what : undefined) {
      case 'running-config':
        await term.print(renderPixConfig(s));
        return true;
      case 'configure':
        await term.print(renderPixConfig(this.#startup));
        return true;
      case 'passwd':
        await term.print(`passwd ${s.passwdHash} encrypted\n`);
        return true;
      case 'pager':
        await term.print(s.pagerLines === 0 ? 'no pager\n' : `pager lines ${s.pagerLines}\n`);
        return true;
      case 'username': {
        const only = w[2];
        for (const [name, u] of s.users) {
          if (only === undefined || only === name) await term.print(`username ${name} password ${u.hash} encrypted privilege ${u.privilege}\n`);
        }
        return true;
      }
      default:
        return false;
    }
  }
}

const HELP: Record<Mode, string> = {
  user: ['enable          Turn on privileged commands', 'help            Help list', 'quit            Quit from the current mode, end configuration or logout', ''].join('\n'),
  privileged: [
    'configure       Configure from terminal, floppy, memory or network',
    'disable         Exit from privileged mode',
    'pager           Control page length for pagination',
    'show            Show running system information',
    'write           Write config to net, flash, floppy, or terminal, or erase flash',
    'quit            Quit from the current mode, end configuration or logout',
    '',
  ].join('\n'),
  config: [
    'aaa             Enable, disable, or view user authentication, authorization and accounting',
    'enable          Configure the password for the enable command',
    'hostname        Change host name',
    'passwd          Change Telnet console access password',
    'pager           Control page length for pagination',
    'username        Configure user authentication local database',
    'write           Write config to net, flash, floppy, or terminal, or erase flash',
    'exit            Exit from configure mode',
    '',
  ].join('\n'),
};

/** A simulated PIX 6.3 firewall with its factory passwords ("cisco", empty enable) unless options say otherwise. */
export function ciscoPix(options?: CiscoPixOptions): CiscoPix {
  return new CiscoPix(options);
}
