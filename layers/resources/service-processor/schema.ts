import { z } from 'zod';
import { accountIdSchema, cliTransport, resourceBase } from '../common.js';
import { defineType, tcp, type Implementation } from '../definition.js';
import type { PolicyInput } from '../../engine/policy.js';
import { checkDevice, deviceFields, loginPromptFields } from '../network-device/device.js';
import { cliPort } from '../network-device/fields.js';

export const SERVICE_PROCESSOR_TYPES = ['as400', 'alom', 'ilom', 'xscf'] as const;
export type ServiceProcessorType = (typeof SERVICE_PROCESSOR_TYPES)[number];

const TITLES: Record<ServiceProcessorType, string> = {
  as400: 'IBM i (AS/400)',
  alom: 'Sun ALOM',
  ilom: 'Oracle ILOM',
  xscf: 'Fujitsu / Oracle XSCF',
};

/** Each system's login prompts over Telnet: "login:" then "Password:" (best guess from the consoles the manuals show). */
const LOGIN_PROMPTS: Record<ServiceProcessorType, { username: string; password: string }> = {
  // IBM i is reached over SSH only: these prompts are the SSH server's own, not typed at.
  as400: { username: 'login: ?$', password: '[Pp]assword: ?$' },
  alom: { username: 'login: ?$', password: '[Pp]assword: ?$' },
  ilom: { username: 'login: ?$', password: '[Pp]assword: ?$' },
  xscf: { username: 'login: ?$', password: '[Pp]assword: ?$' },
};

/**
 * How to connect, and optionally an admin. By default each account logs in as itself and changes
 * its own password at the system's prompts. `adminAccount` names an account that resets the
 * others with the system's command for it: ALOM `userpassword NAME` (the `u` permission), ILOM
 * `set /SP/users/NAME password` (the user-management role), XSCF `password NAME` (useradm),
 * IBM i the Change User Password API QSYCHGPW with `*NOPWD` (IBM i API reference, QSYCHGPW:
 * *SECADM special authority and *OBJMGT and *USE on the profile). IBM i is SSH only: its Telnet
 * is TN5250 (block-mode screens), which rpr does not speak.
 */
export function serviceProcessorSchema<T extends ServiceProcessorType>(type: T) {
  return z
    .object({
      ...resourceBase,
      ...cliTransport,
      ...deviceFields,
      type: z.literal(type),
      prompts: z.object(loginPromptFields(LOGIN_PROMPTS[type])).strict().prefault({}),
      /** An account that resets the others' passwords; without it each account changes its own. */
      adminAccount: accountIdSchema.optional(),
    })
    .strict()
    .superRefine((r, ctx) => {
      checkDevice(r, ctx, { title: TITLES[type], save: false, configurationMode: false });
      if (type === 'as400' && r.protocol === 'telnet') {
        ctx.addIssue({ code: 'custom', path: ['protocol'], message: 'must be ssh on IBM i: its Telnet server speaks TN5250 (5250 block-mode screens), which rpr does not support' });
      }
    })
    .transform((r) => ({ ...r, port: cliPort(r) }));
}

export type ServiceProcessorResource = z.output<ReturnType<typeof serviceProcessorSchema>>;

/** `self`: the account logs in and changes its own password; `admin`: the adminAccount resets it. */
export type ServiceProcessorChangeBy = 'self' | 'admin';

export function serviceProcessorChangeBy(resource: ServiceProcessorResource, accountId: string): ServiceProcessorChangeBy {
  return resource.adminAccount !== undefined && resource.adminAccount !== accountId ? 'admin' : 'self';
}


// Passwords are typed at the system's own prompts (echo off), never on a command line. ASCII only:
// these consoles convert to EBCDIC or fixed code pages where a non-ASCII character may not survive.
const POLICIES: Record<ServiceProcessorType, PolicyInput> = {
  // QPWDLVL 2 and 3 take up to 128 case-sensitive characters. A system still at QPWDLVL 0/1
  // (10 characters, A-Z 0-9 $ # @ _) needs a resource policy: length 10, minLower 0, symbols "$#@_".
  // The change is an SQL CALL (as400-driver.ts): a quote would end its string constant. A blank:
  // QSYCHGPW removes trailing ones, so a password ending in one would not be the one stored.
  as400: { length: 24, maxLength: 128, allowUnicode: false, forbidden: "' " },
  // ALOM: at least 6 characters, only the first 8 significant, so at most 8 here (every character
  // counts); at least two letters and a digit or special character (the generator's minimums give
  // both; the driver refuses a given password without them, and one that is the login name or a
  // shift of it, before typing it).
  alom: { length: 8, minLength: 6, maxLength: 8, minLower: 1, minUpper: 1, minDigits: 1, minSymbols: 1, allowUnicode: false },
  // ILOM takes 8 to 16 characters, anything but a colon or a space.
  ilom: { length: 16, minLength: 8, maxLength: 16, allowUnicode: false, forbidden: ': ' },
  // XSCF password(8): up to 32 characters of letters, digits, space and !@#$%^&*[]{}()-+=~,></'?;:
  // (and `), so the other ASCII punctuation is forbidden; at least 6 (its PAM policy's floor).
  xscf: { length: 24, minLength: 6, maxLength: 32, allowUnicode: false, forbidden: '"._\\|' },
};

// Each system's documented user-name syntax; none admits whitespace or shell punctuation.
const USERNAMES: Record<ServiceProcessorType, z.ZodType<string>> = {
  as400: z.string().regex(/^[A-Za-z$#@][A-Za-z0-9$#@_]{0,9}$/, 'must be an IBM i user profile name: A-Z, $, # or @, then A-Z, 0-9, $, #, @ or _ (at most 10)'),
  alom: z.string().regex(/^[A-Za-z][A-Za-z0-9._-]{0,15}$/, 'must be an ALOM user name: a letter, then letters, digits, ".", "_" or "-" (at most 16)'),
  ilom: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{3,15}$/, 'must be an ILOM user name: a letter, then letters, digits, "_" or "-" (4 to 16)'),
  xscf: z.string().regex(/^[A-Za-z][A-Za-z0-9._-]{0,30}$/, 'must be an XSCF user name: a letter, then letters, digits, ".", "_" or "-" (at most 31)'),
};

const CHANGED_BY: Record<ServiceProcessorType, string> = {
  as400:
    "SSH only (TN5250 is out of scope): IBM's Change User Password API `QSYCHGPW` through an SQL `CALL` piped to `qsh -c db2`, as the account (`*CURRENT` and its current password) or as adminAccount (`*NOPWD`: *SECADM, *OBJMGT and *USE on the profile), the passwords read by bash's `read -s` (on no command line, in no job log or history); every way IBM documents takes the password as a parameter, and this least exposed one leaves it in the SQL statement text, which a running database monitor (STRDBMON) captures; kept out of rpr's logs",
  alom: 'SSH or Telnet; `password` as the account (its current password, then the new one twice, at the prompts), or `userpassword NAME` as adminAccount (`u` permission; the new one twice); no save step; adminAccount itself changes its own, last',
  ilom: 'SSH or Telnet; `set /SP/users/NAME password`, the new password typed twice at its prompts, as the account or as adminAccount',
  xscf: 'SSH or Telnet; `password` as the account (its current password, then the new one twice), or `password NAME` as adminAccount (useradm; XSCF skips its password policy there), the new password typed at its prompts; no save step; adminAccount itself changes its own, last',
};

/** The types with a driver; the others are not yet implemented. */
const IMPLEMENTATIONS: Record<ServiceProcessorType, Implementation> = {
  as400: {
    family: 'device',
    adapter: () => import('./as400/adapter.js').then((m) => m.createAs400Adapter),
    testedAgainst: {
      kind: 'simulator',
      what: "a PASE shell over SSH (bash and bsh, `read -s`, printf, `qsh -c db2`) with IBM i user profiles, the QPWD* system values and QSYCHGPW's checks and messages, written from IBM's QSYCHGPW, PASE, Qshell db2 and password system value documentation; its job log, command lines, history and SQL statement texts are recorded; no real IBM i, no TN5250, no database monitor",
      using: ['device:as400'],
    },
  },
  ilom: {
    family: 'device',
    adapter: () => import('./ilom/adapter.js').then((m) => m.createIlomAdapter),
    testedAgainst: {
      kind: 'simulator',
      what:
        "the ILOM CLI simulator (test/simulators/device/ilom.ts), written from Oracle's ILOM 3.2 Administrator's Guide (Configuring Local User Accounts) and the EDR InfiniBand Switch guide's password change: SSH and Telnet logins, `set /SP/users/NAME password` with its two prompts, the User Management role and the password rules; not covered: the web and IPMI interfaces, LDAP/RADIUS accounts, and the exact refusal wordings (best guesses)",
      using: ['device:ilom'],
    },
  },
  alom: {
    family: 'device',
    adapter: () => import('./alom/adapter.js').then((m) => m.createAlomAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: "ALOM `sc>` shell simulator over SSH and Telnet (test/simulators/device/alom.ts), written from Sun's ALOM 1.6 Administration Guide (userpassword, password, usershow, the password restrictions, the first 8 characters significant); the error wordings are best guesses; no real ALOM",
      using: ['device:alom'],
    },
  },
  xscf: {
    family: 'device',
    adapter: () => import('./xscf/adapter.js').then((m) => m.createXscfAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: "XSCF shell simulator over SSH and Telnet (test/simulators/device/xscf.ts), written from the SPARC Enterprise XSCF Reference Manual (password(8), setpasswordpolicy(8)) and User's Guide; prompts and refusals taken as Linux PAM's; no real XSCF",
      using: ['device:xscf'],
    },
  },
};

export function serviceProcessorDefinition<T extends ServiceProcessorType>(type: T) {
  return defineType({
    type,
    title: TITLES[type],
    schema: serviceProcessorSchema(type),
    defaultPort: 22,
    ports: (r) => tcp(r.port),
    // IBM i is reached over SSH only (its Telnet is TN5250): its function opens 22 alone.
    defaultPorts: type === 'as400' ? tcp(22) : tcp(22, 23),
    policy: POLICIES[type],
    username: USERNAMES[type],
    // The accounts log in themselves; the admin, when named, logs in to reset the others.
    references: (r) => (r.adminAccount ? [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }] : []),
    onPremises: true,
    verification: 'login',
    implementation: IMPLEMENTATIONS[type],
    changedBy: CHANGED_BY[type],
    verifiedBy: type === 'as400' ? 'a fresh SSH login as the account' : 'a fresh SSH or Telnet login as the account',
  });
}
