/**
 * The configuration model of the IOS simulator (cisco-ios.ts) and its global and line
 * configuration commands, from:
 * - "Cisco IOS Security Command Reference": `username` (`privilege`, `secret [0|5|8|9]`,
 *   `password [0|7]`, `algorithm-type {md5|sha256|scrypt}`, `no username`), `enable secret
 *   [0|5|8|9]`, `enable password [0|7]`, `service password-encryption` (type 7 display of every
 *   clear-text password, kept after `no service password-encryption`);
 * - "Cisco IOS Configuration Fundamentals Command Reference": `hostname`, `line {console 0 | vty
 *   FIRST [LAST]}`, line `password [0|7]`, `login`, `login local`, `no login`, `exec-timeout
 *   MINUTES [SECONDS]`, and how `show running-config` lays these out (consecutive vty lines with
 *   the same settings shown as one `line vty FIRST LAST`).
 * Wordings: the type 5/8/9 error and "Can not have both a user password and a user secret" are
 * as device transcripts in public forums show them; the type 7 error is a best guess. Passwords
 * are taken as the rest of the line without its leading spaces (the command reference: "leading
 * spaces are ignored, but trailing spaces are recognized").
 * Simplifications: privilege levels other than 0, 1 and 15 are stored but not enforced;
 * `enable secret level N` is listed but not simulated; re-entering `username NAME secret X`
 * without `privilege` keeps the privilege the user had (a best guess).
 */
import { type CliArgs, type CliNode, unsimulated } from './cisco-cli.js';
import { decodeType7, encodeType7, hashSecret, type SecretType, validSecret, verifySecret } from './cisco-secrets.js';

export interface IosPassword {
  /** 0: clear text; 7: the reversible form, `text` holding its digits. */
  readonly type: 0 | 7;
  readonly text: string;
}

export interface IosSecret {
  readonly type: SecretType;
  readonly hash: string;
}

export interface IosUser {
  readonly name: string;
  privilege: number;
  password?: IosPassword;
  secret?: IosSecret;
}

export interface IosLine {
  password?: IosPassword;
  login: 'none' | 'line' | 'local';
  execTimeout?: readonly [number, number];
}

export function passwordMatches(stored: IosPassword | undefined, clear: string): boolean {
  if (!stored) return false;
  return (stored.type === 0 ? stored.text : decodeType7(stored.text)) === clear;
}

export function secretMatches(stored: IosSecret | undefined, clear: string): boolean {
  return stored !== undefined && verifySecret(stored.type, stored.hash, clear);
}

export class IosConfig {
  hostname = 'Router';
  enableSecret: IosSecret | undefined;
  enablePassword: IosPassword | undefined;
  passwordEncryption = false;
  readonly users = new Map<string, IosUser>();
  con: IosLine = { login: 'none' };
  vty: IosLine[] = Array.from({ length: 16 }, () => ({ login: 'line' as const }));

  /** A clear-text password as stored now: type 7 while `service password-encryption` is on. */
  store(clear: string): IosPassword {
    return this.passwordEncryption ? { type: 7, text: encodeType7(clear) } : { type: 0, text: clear };
  }

  encryptAll(): void {
    const enc = (p: IosPassword | undefined) => (p && p.type === 0 ? { type: 7 as const, text: encodeType7(p.text) } : p);
    this.enablePassword = enc(this.enablePassword);
    for (const u of this.users.values()) if (u.password) u.password = enc(u.password);
    for (const l of [this.con, ...this.vty]) if (l.password) l.password = enc(l.password);
  }

  /** The text of `show running-config` after its header. */
  render(): string {
    const out: string[] = ['!', 'version 15.2', `${this.passwordEncryption ? '' : 'no '}service password-encryption`, '!', `hostname ${this.hostname}`, '!'];
    if (this.enableSecret) out.push(`enable secret ${this.enableSecret.type} ${this.enableSecret.hash}`);
    if (this.enablePassword) out.push(`enable password ${showPassword(this.enablePassword, false)}`);
    if (this.enableSecret || this.enablePassword) out.push('!');
    for (const u of this.users.values()) {
      const priv = u.privilege !== 1 ? ` privilege ${u.privilege}` : '';
      const cred = u.secret ? ` secret ${u.secret.type} ${u.secret.hash}` : u.password ? ` password ${showPassword(u.password, true)}` : '';
      out.push(`username ${u.name}${priv}${cred}`);
    }
    if (this.users.size > 0) out.push('!');
    out.push('line con 0', ...renderLine(this.con, false));
    let first = 0;
    for (let i = 1; i <= this.vty.length; i++) {
      if (i < this.vty.length && sameLine(this.vty[i]!, this.vty[first]!)) continue;
      out.push(`line vty ${first}${i - 1 > first ? ` ${i - 1}` : ''}`, ...renderLine(this.vty[first]!, true));
      first = i;
    }
    out.push('!', 'end');
    return out.join('\n') + '\n';
  }
}

/** `enable password` and line passwords show type 0 bare; `username … password` shows "0". */
function showPassword(p: IosPassword, zero: boolean): string {
  return p.type === 7 ? `7 ${p.text}` : zero ? `0 ${p.text}` : p.text;
}

/** Lines with the same settings (type 7 texts differ by their random offset, not their password). */
function sameLine(a: IosLine, b: IosLine): boolean {
  const clear = (p: IosPassword | undefined) => (p ? `${p.type}:${p.type === 7 ? decodeType7(p.text) : p.text}` : '');
  return a.login === b.login && clear(a.password) === clear(b.password) && String(a.execTimeout) === String(b.execTimeout);
}

function renderLine(line: IosLine, vty: boolean): string[] {
  const out: string[] = [];
  if (line.execTimeout) out.push(` exec-timeout ${line.execTimeout[0]} ${line.execTimeout[1]}`);
  if (line.password) out.push(` password ${showPassword(line.password, false)}`);
  if (line.login === 'local') out.push(' login local');
  else if (line.login === 'line') out.push(' login');
  else if (vty) out.push(' no login');
  return out;
}

/** What configuration commands act on and print to. */
export interface IosConfigContext {
  readonly config: IosConfig;
  /** The type a clear-text `secret` is stored as. */
  readonly secretType: SecretType;
  print(text: string): Promise<void>;
  /** A refusal armed for this change (the core's fault), printed instead of applying it. */
  refusal(): string | undefined;
  applied(what: string): void;
  mode: 'exec' | 'config' | 'config-line';
  /** The lines a `line` command selected. */
  lines: IosLine[];
}

type Ctx = IosConfigContext;

const CONFLICT = 'ERROR: Can not have both a user password and a user secret.\nPlease choose one or the other.\n';

function invalidSecret(type: number): string {
  return (
    'ERROR: The secret you entered is not a valid encrypted secret.\n' +
    `To enter an UNENCRYPTED secret, do not specify type ${type} encryption.\n` +
    'When you properly enter an UNENCRYPTED secret, it will be encrypted.\n\n'
  );
}

/** Leading spaces are not part of a password; trailing ones are. */
const clearText = (line: string | undefined) => (line ?? '').replace(/^\s+/, '');

/** A secret from `[type] TEXT`, or the error IOS prints. */
function secretFrom(ctx: Ctx, type: string | undefined, text: string): IosSecret | string {
  if (type === undefined || type === '0') return { type: ctx.secretType, hash: hashSecret(ctx.secretType, text) };
  const t = Number(type) as SecretType;
  return validSecret(t, text.trim()) ? { type: t, hash: text.trim() } : invalidSecret(t);
}

/** A password from `[type] TEXT`, or the error. */
function passwordFrom(ctx: Ctx, type: string | undefined, text: string): IosPassword | string {
  if (type === '7') return decodeType7(text.trim()) === undefined ? 'Invalid encrypted password\n' : { type: 7, text: text.trim().toUpperCase() };
  return ctx.config.store(text);
}

/** Applies a credential change unless a refusal is armed; reports it applied. */
async function change(ctx: Ctx, what: string, apply: () => string | undefined): Promise<void> {
  const refused = ctx.refusal();
  if (refused !== undefined) return ctx.print(refused.endsWith('\n') ? refused : refused + '\n');
  const error = apply();
  if (error) return ctx.print(error);
  ctx.applied(what);
}

const ALGORITHMS: Record<string, SecretType> = { md5: 5, sha256: 8, scrypt: 9 };

function typeHelp(t: string): string {
  return { '0': 'Specifies an UNENCRYPTED password will follow', '5': 'Specifies a MD5 HASHED secret will follow', '7': 'Specifies a HIDDEN password will follow', '8': 'Specifies a PBKDF2 HASHED secret will follow', '9': 'Specifies a SCRYPT HASHED secret will follow' }[t]!;
}

/** `[TYPE] TEXT`: the type keywords, each followed by the text, or the text alone. */
function typedText(types: readonly string[], helpText: string, run: (ctx: Ctx, a: CliArgs, type: string | undefined) => Promise<void>): CliNode<Ctx>[] {
  return [
    ...types.map((t): CliNode<Ctx> => ({ keyword: t, help: typeHelp(t), children: [{ arg: 'LINE', name: 'text', help: helpText, run: (ctx, a) => run(ctx, a, t) }] })),
    { arg: 'LINE', name: 'text', help: helpText, run: (ctx, a) => run(ctx, a, undefined) },
  ];
}

const algorithmOf = (a: CliArgs) => a.keywords.find((k) => k in ALGORITHMS);

function setUserSecret(ctx: Ctx, a: CliArgs, type: string | undefined): Promise<void> {
  const name = a.values.name!;
  return change(ctx, `username ${name}`, () => {
    const existing = ctx.config.users.get(name);
    if (existing?.password) return CONFLICT;
    const algorithm = algorithmOf(a);
    const secret = secretFrom(algorithm ? { ...ctx, secretType: ALGORITHMS[algorithm]! } : ctx, type, clearText(a.values.text));
    if (typeof secret === 'string') return secret;
    ctx.config.users.set(name, { name, privilege: a.values.privilege !== undefined ? Number(a.values.privilege) : (existing?.privilege ?? 1), secret });
    return undefined;
  });
}

function setUserPassword(ctx: Ctx, a: CliArgs, type: string | undefined): Promise<void> {
  const name = a.values.name!;
  return change(ctx, `username ${name}`, () => {
    const existing = ctx.config.users.get(name);
    if (existing?.secret) return CONFLICT;
    const password = passwordFrom(ctx, type, clearText(a.values.text));
    if (typeof password === 'string') return password;
    ctx.config.users.set(name, { name, privilege: a.values.privilege !== undefined ? Number(a.values.privilege) : (existing?.privilege ?? 1), password });
    return undefined;
  });
}

/** What may follow `username NAME` (then `privilege N`, then `algorithm-type X`). */
function userOptions(opts: { readonly privilege: boolean; readonly others: boolean }): CliNode<Ctx>[] {
  const nodes: CliNode<Ctx>[] = [
    { keyword: 'secret', help: 'Specify the secret for the user', children: typedText(['0', '5', '8', '9'], 'The UNENCRYPTED (cleartext) user secret', setUserSecret) },
  ];
  if (opts.others) {
    nodes.push(
      { keyword: 'password', help: 'Specify the password for the user', children: typedText(['0', '7'], 'The UNENCRYPTED (cleartext) user password', setUserPassword) },
      {
        keyword: 'algorithm-type',
        help: 'Algorithm to use for hashing the plaintext secret for the user',
        children: Object.keys(ALGORITHMS).map((alg) => ({ keyword: alg, help: `Encode the password using the ${alg.toUpperCase()} algorithm`, children: userOptions({ privilege: false, others: false }) })),
      },
      ...unsimulated<Ctx>([
        ['nopassword', 'No password is required for the user to log in'],
        ['autocommand', 'Automatically issue a command after the user logs in'],
        ['view', 'Set view name'],
      ]),
    );
  }
  if (opts.privilege) {
    nodes.push({
      keyword: 'privilege',
      help: 'Set user privilege level',
      children: [
        {
          arg: [0, 15],
          name: 'privilege',
          help: 'User privilege level',
          children: userOptions({ privilege: false, others: true }),
          run: (ctx, a) =>
            change(ctx, `username ${a.values.name}`, () => {
              const existing = ctx.config.users.get(a.values.name!);
              if (existing) existing.privilege = Number(a.values.privilege);
              else ctx.config.users.set(a.values.name!, { name: a.values.name!, privilege: Number(a.values.privilege) });
              return undefined;
            }),
        },
      ],
    });
  }
  return nodes;
}

function setEnableSecret(ctx: Ctx, a: CliArgs, type: string | undefined): Promise<void> {
  return change(ctx, 'enable secret', () => {
    const algorithm = algorithmOf(a);
    const secret = secretFrom(algorithm ? { ...ctx, secretType: ALGORITHMS[algorithm]! } : ctx, type, clearText(a.values.text));
    if (typeof secret === 'string') return secret;
    ctx.config.enableSecret = secret;
    return undefined;
  });
}

function setEnablePassword(ctx: Ctx, a: CliArgs, type: string | undefined): Promise<void> {
  return change(ctx, 'enable password', () => {
    const password = passwordFrom(ctx, type, clearText(a.values.text));
    if (typeof password === 'string') return password;
    ctx.config.enablePassword = password;
    return undefined;
  });
}

const enableNodes: CliNode<Ctx>[] = [
  { keyword: 'secret', help: 'Assign the privileged level secret (MAX of 25 characters)', children: [...typedText(['0', '5', '8', '9'], 'The UNENCRYPTED (cleartext) \'enable\' secret', setEnableSecret), ...unsimulated<Ctx>([['level', 'Set exec level password']])] },
  { keyword: 'password', help: 'Assign the privileged level password (MAX of 25 characters)', children: [...typedText(['0', '7'], 'The UNENCRYPTED (cleartext) \'enable\' password', setEnablePassword), ...unsimulated<Ctx>([['level', 'Set exec level password']])] },
  {
    keyword: 'algorithm-type',
    help: 'Algorithm to use for hashing the plaintext \'enable\' secret',
    children: Object.keys(ALGORITHMS).map((alg) => ({
      keyword: alg,
      help: `Encode the password using the ${alg.toUpperCase()} algorithm`,
      children: [{ keyword: 'secret', help: 'Assign the privileged level secret', children: typedText(['0'], 'The UNENCRYPTED (cleartext) \'enable\' secret', setEnableSecret) }],
    })),
  },
];

function lineChange(ctx: Ctx, what: string, apply: (line: IosLine) => void): Promise<void> {
  return change(ctx, what, () => {
    for (const line of ctx.lines) apply(line);
    return undefined;
  });
}

/** Line configuration mode (`line con 0`, `line vty 0 15`). */
export const LINE_COMMANDS: CliNode<Ctx>[] = [
  {
    keyword: 'password',
    help: 'Set a password',
    children: typedText(['0', '7'], 'The UNENCRYPTED (cleartext) line password', async (ctx, a, type) => {
      const password = passwordFrom(ctx, type, clearText(a.values.text));
      if (typeof password === 'string') return ctx.print(password);
      return lineChange(ctx, 'line password', (l) => (l.password = password));
    }),
  },
  {
    keyword: 'login',
    help: 'Enable password checking',
    run: (ctx) => lineChange(ctx, 'login', (l) => (l.login = 'line')),
    children: [
      { keyword: 'local', help: 'Local password checking', run: (ctx) => lineChange(ctx, 'login local', (l) => (l.login = 'local')) },
      ...unsimulated<Ctx>([['authentication', 'Authentication parameters.']]),
    ],
  },
  {
    keyword: 'exec-timeout',
    help: 'Set the EXEC timeout',
    children: [
      {
        arg: [0, 35791],
        name: 'minutes',
        help: 'Timeout in minutes',
        run: (ctx, a) => lineChange(ctx, 'exec-timeout', (l) => (l.execTimeout = [Number(a.values.minutes), 0])),
        children: [{ arg: [0, 2147483], name: 'seconds', help: 'Timeout in seconds', run: (ctx, a) => lineChange(ctx, 'exec-timeout', (l) => (l.execTimeout = [Number(a.values.minutes), Number(a.values.seconds)])) }],
      },
    ],
  },
  {
    keyword: 'no',
    help: 'Negate a command or set its defaults',
    children: [
      { keyword: 'password', help: 'Set a password', run: (ctx) => lineChange(ctx, 'line password', (l) => delete l.password) },
      { keyword: 'login', help: 'Enable password checking', run: (ctx) => lineChange(ctx, 'login', (l) => (l.login = 'none')) },
      { keyword: 'exec-timeout', help: 'Set the EXEC timeout', run: (ctx) => lineChange(ctx, 'exec-timeout', (l) => delete l.execTimeout) },
    ],
  },
  ...unsimulated<Ctx>([
    ['access-class', 'Filter connections based on an IP access list'],
    ['logging', 'Modify message logging facilities'],
    ['privilege', 'Change privilege level for line'],
    ['transport', 'Define transport protocols for line'],
    ['length', 'Set number of lines on a screen'],
    ['width', 'Set width of the display terminal'],
    ['stopbits', 'Set async line stop bits'],
  ]),
];

function selectLines(ctx: Ctx, lines: IosLine[]): void {
  ctx.lines = lines;
  ctx.mode = 'config-line';
}

/** Global configuration mode. */
export const GLOBAL_COMMANDS: CliNode<Ctx>[] = [
  {
    keyword: 'hostname',
    help: 'Set system\'s network name',
    children: [{ arg: 'WORD', name: 'hostname', help: 'This system\'s network name', run: (ctx, a) => void (ctx.config.hostname = a.values.hostname!) }],
  },
  { keyword: 'enable', help: 'Modify enable password parameters', children: enableNodes },
  { keyword: 'username', help: 'Establish User Name Authentication', children: [{ arg: 'WORD', name: 'name', help: 'User name', children: userOptions({ privilege: true, others: true }) }] },
  {
    keyword: 'service',
    help: 'Modify use of network based services',
    children: [
      {
        keyword: 'password-encryption',
        help: 'Encrypt system passwords',
        run: (ctx) => {
          ctx.config.passwordEncryption = true;
          ctx.config.encryptAll();
        },
      },
      ...unsimulated<Ctx>([['timestamps', 'Timestamp debug/log messages'], ['pad', 'Enable PAD commands']]),
    ],
  },
  {
    keyword: 'line',
    help: 'Configure a terminal line',
    children: [
      { keyword: 'console', help: 'Primary terminal line', children: [{ arg: [0, 0], name: 'first', help: 'First Line number', run: (ctx) => selectLines(ctx, [ctx.config.con]) }] },
      {
        keyword: 'vty',
        help: 'Virtual terminal',
        children: [
          {
            arg: [0, 15],
            name: 'first',
            help: 'First Line number',
            run: (ctx, a) => selectLines(ctx, [ctx.config.vty[Number(a.values.first)]!]),
            children: [
              {
                arg: [1, 15],
                name: 'last',
                help: 'Last Line number',
                run: (ctx, a) => selectLines(ctx, ctx.config.vty.slice(Number(a.values.first), Number(a.values.last) + 1)),
              },
            ],
          },
        ],
      },
      ...unsimulated<Ctx>([['aux', 'Auxiliary line']]),
    ],
  },
  {
    keyword: 'no',
    help: 'Negate a command or set its defaults',
    children: [
      {
        keyword: 'username',
        help: 'Establish User Name Authentication',
        children: [
          {
            arg: 'WORD',
            name: 'name',
            help: 'User name',
            run: (ctx, a) =>
              change(ctx, `username ${a.values.name}`, () => {
                ctx.config.users.delete(a.values.name!);
                return undefined;
              }),
          },
        ],
      },
      {
        keyword: 'enable',
        help: 'Modify enable password parameters',
        children: [
          { keyword: 'secret', help: 'Assign the privileged level secret', run: (ctx) => change(ctx, 'enable secret', () => void (ctx.config.enableSecret = undefined)) },
          { keyword: 'password', help: 'Assign the privileged level password', run: (ctx) => change(ctx, 'enable password', () => void (ctx.config.enablePassword = undefined)) },
        ],
      },
      { keyword: 'service', help: 'Modify use of network based services', children: [{ keyword: 'password-encryption', help: 'Encrypt system passwords', run: (ctx) => void (ctx.config.passwordEncryption = false) }] },
      ...unsimulated<Ctx>([['ip', 'Global IP configuration subcommands'], ['logging', 'Modify message logging facilities'], ['aaa', 'Authentication, Authorization and Accounting.']]),
    ],
  },
  ...unsimulated<Ctx>([
    ['aaa', 'Authentication, Authorization and Accounting.'],
    ['access-list', 'Add an access list entry'],
    ['banner', 'Define a login banner'],
    ['boot', 'Modify system boot parameters'],
    ['cdp', 'Global CDP configuration subcommands'],
    ['clock', 'Configure time-of-day clock'],
    ['crypto', 'Encryption module'],
    ['default', 'Set a command to its defaults'],
    ['interface', 'Select an interface to configure'],
    ['ip', 'Global IP configuration subcommands'],
    ['logging', 'Modify message logging facilities'],
    ['ntp', 'Configure NTP'],
    ['router', 'Enable a routing process'],
    ['snmp-server', 'Modify SNMP engine parameters'],
    ['spanning-tree', 'Spanning Tree Subsystem'],
    ['vlan', 'Vlan commands'],
  ]),
];
