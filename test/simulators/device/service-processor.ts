/**
 * What the four service-processor dialects (hp-ilo.ts, ilom.ts, alom.ts, xscf.ts) share: a local
 * account table that keeps salted hashes, never clear text (a `show` has nothing to leak), the
 * test hooks each factory adds to its Dialect, and the read-a-command loop. Everything a vendor
 * prints lives in that vendor's file.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Dialect, LoginInfo, Terminal } from './dialect.js';

/** One local account on a service processor. */
export interface SpAccount {
  readonly name: string;
  /** The vendor's privilege string: iLO groups ("admin,config"), ILOM roles ("aucro"), ALOM ("cuar"), XSCF ("useradm,platadm"). */
  privileges: string;
  /** Undefined for an account without a password yet (ALOM `useradd`, XSCF `adduser`): it cannot log in. */
  secret: { readonly salt: string; readonly hash: string } | undefined;
}

/** A user a test seeds into a simulator. */
export interface SpUser {
  readonly name: string;
  /** Omit for an account with no password yet. */
  readonly password?: string;
  readonly privileges?: string;
}

function digest(salt: string, password: string): string {
  return createHash('sha256').update(salt).update('\0').update(password, 'utf8').digest('hex');
}

/**
 * The accounts, keyed by name (case-sensitive, as on every one of these devices). `significant`
 * keeps only the first N characters of a password, as ALOM does (its first 8).
 */
export class AccountTable {
  readonly #accounts = new Map<string, SpAccount>();
  readonly #significant: number | undefined;

  constructor(significant?: number) {
    this.#significant = significant;
  }

  #seal(password: string): { salt: string; hash: string } {
    const salt = randomBytes(8).toString('hex');
    return { salt, hash: digest(salt, this.#cut(password)) };
  }

  #cut(password: string): string {
    return this.#significant === undefined ? password : password.slice(0, this.#significant);
  }

  add(user: SpUser): SpAccount {
    const account: SpAccount = {
      name: user.name,
      privileges: user.privileges ?? '',
      secret: user.password === undefined ? undefined : this.#seal(user.password),
    };
    this.#accounts.set(user.name, account);
    return account;
  }

  get(name: string): SpAccount | undefined {
    return this.#accounts.get(name);
  }

  names(): string[] {
    return [...this.#accounts.keys()];
  }

  get size(): number {
    return this.#accounts.size;
  }

  /** Removes an account (a test's clean-up); true when there was one. */
  delete(name: string): boolean {
    return this.#accounts.delete(name);
  }

  setPassword(name: string, password: string): void {
    const account = this.#accounts.get(name);
    if (!account) throw new Error(`no account ${name}`);
    account.secret = this.#seal(password);
  }

  /** True when `password` is the account's (a login, or a "current password" prompt). */
  check(name: string | undefined, password: string): boolean {
    const secret = name === undefined ? undefined : this.#accounts.get(name)?.secret;
    if (!secret) return false;
    const want = Buffer.from(secret.hash, 'hex');
    const got = Buffer.from(digest(secret.salt, this.#cut(password)), 'hex');
    return timingSafeEqual(want, got);
  }

  /** The stored hash ("salt$sha256"), for tests that prove no clear text is kept. */
  hashOf(name: string): string | undefined {
    const secret = this.#accounts.get(name)?.secret;
    return secret && `${secret.salt}$${secret.hash}`;
  }
}

/** What each factory adds to its Dialect for tests. */
export interface ServiceProcessorHooks {
  /** Adds (or replaces) a local account. */
  addUser(user: SpUser): void;
  /** Removes a local account (a no-op when there is none). */
  removeUser(name: string): void;
  /** The stored hash of an account's password, undefined when it has none. */
  hashOf(name: string): string | undefined;
  /** Whether `password` logs `name` in. */
  checkPassword(name: string, password: string): boolean;
  /** The account's privilege string as the device keeps it. */
  privilegesOf(name: string): string | undefined;
  /** Every command line the dialect did not know, in order. */
  readonly unexpected: string[];
}

export type ServiceProcessor = Dialect & ServiceProcessorHooks;

/** Options every service-processor factory takes. */
export interface ServiceProcessorOptions {
  /** The accounts at start; each factory documents its default (the vendor's factory account). */
  readonly users?: readonly SpUser[];
}

export function hooks(accounts: AccountTable, unexpected: string[]): ServiceProcessorHooks {
  return {
    addUser: (user) => void accounts.add(user),
    removeUser: (name) => void accounts.delete(name),
    hashOf: (name) => accounts.hashOf(name),
    checkPassword: (name, password) => accounts.check(name, password),
    privilegesOf: (name) => accounts.get(name)?.privileges,
    unexpected,
  };
}

/** What a service processor's Dialect says of itself; the rest is the same on all four. */
export interface ServiceProcessorDialect {
  readonly name: string;
  /** The Telnet login's prompts and refusal, as the vendor prints them. */
  readonly login: { readonly usernamePrompt: string; readonly passwordPrompt: string; readonly failed: string; readonly banner?: () => string };
  readonly session: (term: Terminal, login: LoginInfo) => Promise<void>;
}

/**
 * A service processor's Dialect: a login that always asks for a user name and allows 3 tries,
 * checked against the account table (the grant is `{ user }`), no paging, and the test hooks.
 */
export function serviceProcessor(d: ServiceProcessorDialect, accounts: AccountTable, unexpected: string[]): ServiceProcessor {
  return {
    name: d.name,
    login: {
      usernameRequired: () => true,
      ...d.login,
      attempts: 3,
      authenticate: (username, password) => (accounts.check(username, password) ? { user: username } : undefined),
    },
    paging: { lines: 0, more: '', erase: '' },
    session: d.session,
    ...hooks(accounts, unexpected),
  };
}

/**
 * Reads command lines at `prompt` until the session ends or `handle` returns 'exit' (it closes
 * the terminal then). Blank lines just prompt again, as on each of these shells.
 */
export async function commandLoop(
  term: Terminal,
  prompt: () => string,
  handle: (line: string) => Promise<'exit' | void>,
): Promise<void> {
  for (;;) {
    const line = await term.read(prompt());
    if (line === undefined) return;
    if (line.trim() === '') continue;
    if ((await handle(line.trim())) === 'exit') {
      term.close();
      return;
    }
  }
}

/** Splits a line at blanks (ALOM, XSCF: no quoting). */
export function words(line: string): string[] {
  return line.split(/\s+/).filter((w) => w !== '');
}

/** A parsed CLP command line. */
export interface ClpCommand {
  readonly verb: string;
  readonly options: string[];
  /** The words that are neither options nor properties: the target, and on ILOM a new user's name. */
  readonly targets: string[];
  readonly properties: Map<string, string>;
}

/**
 * Splits a DMTF CLP line (iLO, ILOM): `verb [-options] [target] [name=value ...]`, honouring
 * double quotes around a value; undefined when the quoting is broken (the CLP has no escape).
 */
export function parseClp(line: string): ClpCommand | undefined {
  const tokens: string[] = [];
  let current = '';
  let inQuote = false;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (c === '"') {
      // A quote opens only at a token's start or right after "name="; it closes before a blank.
      if (!inQuote && !(current === '' || current.endsWith('='))) return undefined;
      if (inQuote && i + 1 < line.length && !/\s/.test(line.charAt(i + 1))) return undefined;
      inQuote = !inQuote;
      started = true;
    } else if (/\s/.test(c) && !inQuote) {
      if (started) tokens.push(current);
      current = '';
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (inQuote) return undefined;
  if (started) tokens.push(current);
  const [verb, ...rest] = tokens;
  if (verb === undefined) return undefined;
  const options: string[] = [];
  const properties = new Map<string, string>();
  const targets: string[] = [];
  for (const token of rest) {
    const eq = token.indexOf('=');
    if (token.startsWith('-')) options.push(token);
    else if (eq > 0) properties.set(token.slice(0, eq).toLowerCase(), token.slice(eq + 1));
    else targets.push(token);
  }
  return { verb: verb.toLowerCase(), options, targets, properties };
}
