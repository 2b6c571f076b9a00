import { z } from 'zod';
import { accountIdSchema, cliTransport, resourceBase, secretIdSchema } from '../common.js';
import { defineType, type AccountReference, type TestedAgainst, tcp } from '../definition.js';

export const UNIX_TYPES = ['linux', 'aix', 'hp-ux', 'solaris', 'macos', 'esxi'] as const;
export type UnixType = (typeof UNIX_TYPES)[number];

const privilegeSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }).strict(),
  z.object({ mode: z.literal('su'), rootAccount: accountIdSchema }).strict(),
  z.object({ mode: z.literal('sudo') }).strict(),
]);

/**
 * A user-defined command set: replaces the built-in change command of the OS.
 * The password is always written to the command's standard input, never its argv.
 * `{user}` is replaced by the (validated) user name. Checked when saved.
 */
export const commandSetSchema = z
  .object({
    /** Command run as root (through su/sudo) for an admin reset; reads "user:password\n" (chpasswd style) or the password twice, per `input`. */
    adminChange: z.string().min(1).max(512).optional(),
    input: z.enum(['chpasswd', 'password-twice']).default('chpasswd'),
  })
  .strict()
  .refine((c) => !/[\n\r\0]/.test(c.adminChange ?? ''), { message: 'must be one line', path: ['adminChange'] })
  .refine((c) => !/\{password\}/i.test(c.adminChange ?? ''), {
    message: 'must not hold the password: it is sent on standard input',
    path: ['adminChange'],
  });

export function unixSchema<T extends UnixType>(type: T) {
  return z
    .object({
      ...resourceBase,
      ...cliTransport,
      type: z.literal(type),
      /** The account the adapter logs in with: of this resource, or of a windows-domain resource. */
      login: z.preprocess(
        // A missing login is named by the field the user gives (login.account, or rpr's --login).
        (v) => v ?? {},
        z.object({ account: z.string({ error: (i) => (i.input === undefined ? 'is required: the account rpr logs in as, "<resource id>/<user name>" (rpr resource add --login)' : undefined) }).pipe(accountIdSchema) }).strict(),
      ),
      auth: z.enum(['password', 'key']).default('password'),
      /** Secret holding the login's PEM private key, for `auth: key`. */
      privateKeySecret: secretIdSchema.optional(),
      privilege: privilegeSchema.default({ mode: 'none' }),
      commandSet: commandSetSchema.optional(),
    })
    .strict()
    .superRefine((r, ctx) => {
      if (r.auth === 'key' && !r.privateKeySecret) ctx.addIssue({ code: 'custom', path: ['privateKeySecret'], message: 'is required when auth is "key"' });
      if (r.auth === 'key' && r.protocol === 'telnet') ctx.addIssue({ code: 'custom', path: ['auth'], message: 'must be "password" over Telnet' });
      if (r.hostKeySha256 && r.protocol === 'telnet') ctx.addIssue({ code: 'custom', path: ['hostKeySha256'], message: 'is only used over SSH: Telnet has no host key' });
      if (r.auth === 'password' && r.privateKeySecret) ctx.addIssue({ code: 'custom', path: ['privateKeySecret'], message: 'is only used when auth is "key"' });
    })
    .transform((r) => ({ ...r, port: r.port ?? (r.protocol === 'telnet' ? 23 : 22) }));
}

export type UnixResource = z.output<ReturnType<typeof unixSchema>>;

/** POSIX portable user names (and Samba's trailing "$"); nothing a shell could read as more. */
export const unixUsername = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/, 'must be a portable Unix user name: a letter or "_", then letters, digits, ".", "_" or "-" (at most 32)');

function references(r: UnixResource): AccountReference[] {
  const refs: AccountReference[] = [{ role: 'login', field: 'login.account', accountId: r.login.account, fromResourceTypes: ['windows-domain'] }];
  if (r.privilege.mode === 'su') refs.push({ role: 'root', field: 'privilege.rootAccount', accountId: r.privilege.rootAccount, fromResourceTypes: [] });
  return refs;
}

const TITLES: Record<UnixType, string> = {
  linux: 'Linux',
  aix: 'IBM AIX',
  'hp-ux': 'HP-UX',
  solaris: 'Oracle Solaris',
  macos: 'macOS',
  esxi: 'VMware ESXi',
};

const OPENSSH = 'OpenSSH 9.2 (Debian 12)';

/** What the suite runs each command set on (test/integration/unix/command-sets.test.ts and the Linux suites). */
const TESTED_AGAINST: Record<UnixType, TestedAgainst> = {
  linux: { kind: 'real server', what: `${OPENSSH} and inetutils telnetd, with sudo and su (\`chpasswd\`, \`passwd\`)`, using: ['ssh', 'telnet'] },
  aix: { kind: 'simulator', what: "AIX 7.3 shell (`chpasswd -c`, `pwdadm`, `passwd`, su and sudo) from IBM's documentation; no AIX host; over SSH only (Telnet runs on Linux only)", using: ['unix-shells:aix'] },
  'hp-ux': { kind: 'simulator', what: `HP-UX 11i v3 shell (\`passwd USER\`, \`passwd\`, su and sudo) from HP-UX passwd(1); \`passwd USER\` also on real ${OPENSSH}; no HP-UX host; over SSH only (Telnet runs on Linux only)`, using: ['unix-shells:hp-ux', 'ssh'] },
  solaris: { kind: 'simulator', what: `Oracle Solaris 11.4 shell (\`passwd USER\`, \`passwd\`, su and sudo) from Oracle's passwd(1) and illumos' messages; \`passwd USER\` also on real ${OPENSSH}; no Solaris host; over SSH only (Telnet runs on Linux only)`, using: ['unix-shells:solaris', 'ssh'] },
  macos: { kind: 'simulator', what: `macOS 14 shell (\`passwd USER\`, \`passwd\`, su and sudo) from passwd(1); \`passwd USER\` also on real ${OPENSSH}; no macOS host; over SSH only (Telnet runs on Linux only)`, using: ['unix-shells:macos', 'ssh'] },
  esxi: { kind: 'simulator', what: `ESXi 8.0 shell (\`passwd USER\`, \`passwd\`, \`su -\`, no sudo) from Broadcom KB 318960; \`passwd USER\` also on real ${OPENSSH}; no ESXi host; over SSH only (Telnet runs on Linux only)`, using: ['unix-shells:esxi', 'ssh'] },
};

/** Systems whose passwd(1) takes 7-bit characters only. */
const SEVEN_BIT: readonly UnixType[] = ['aix', 'hp-ux'];

const CHANGED_BY: Record<UnixType, string> = {
  linux: 'SSH or Telnet; `chpasswd` on stdin as root (su/sudo), or `passwd` as the user',
  aix: 'SSH or Telnet; `chpasswd -c` on stdin as root (su/sudo), clearing ADMCHG, or `passwd` as the user',
  'hp-ux': 'SSH or Telnet; `passwd USER` as root (su/sudo), or `passwd` as the user',
  solaris: 'SSH or Telnet; `passwd USER` as root (su/sudo), or `passwd` as the user',
  macos: 'SSH or Telnet; `passwd USER` as root (su/sudo), or `passwd` as the user (`dscl . -passwd` would take it on argv)',
  esxi: 'SSH or Telnet; `passwd USER` in the busybox shell (`esxcli system account set` takes it on argv)',
};

export function unixDefinition<T extends UnixType>(type: T) {
  return defineType({
    type,
    title: TITLES[type],
    schema: unixSchema(type),
    defaultPort: 22,
    ports: (r) => tcp(r.port),
    defaultPorts: tcp(22, 23),
    // chpasswd takes every printable character and Unicode, up to 511 bytes; newline and NUL never.
    // AIX's and HP-UX's passwd take 7-bit passwords only.
    policy: { length: 24, maxLength: 511, maxBytes: 511, ...(SEVEN_BIT.includes(type) ? { allowUnicode: false } : {}) },
    username: unixUsername,
    references,
    adminField: 'login.account',
    loginField: 'login.account',
    secrets: (r: UnixResource) => (r.auth === 'key' && r.privateKeySecret ? [{ name: 'privateKey', field: 'privateKeySecret', secretId: r.privateKeySecret, ofLogin: 'login' }] : []),
    onPremises: true,
    verification: 'login',
    implementation: {
      family: 'unix',
      adapter: () => import('./adapter.js').then((m) => m.createUnixAdapter),
      testedAgainst: TESTED_AGAINST[type],
    },
    changedBy: CHANGED_BY[type],
    verifiedBy: 'a fresh SSH or Telnet login as the account',
  });
}
