import { z } from 'zod';
import { accountIdSchema, cliTransport, resourceBase } from '../common.js';
import { defineType, type AccountReference, type Implementation, tcp } from '../definition.js';
import { DIGITS, type PolicyInput } from '../../engine/policy.js';
import { checkDevice, checkDistinctRoles, deviceFields, loginPromptFields } from '../network-device/device.js';
import { cliPort, COMMENT_FIRST, DEVICE_CLI_FORBIDDEN, deviceUsername, promptSchema } from '../network-device/fields.js';
import { iosLineSchema, linesOverlap } from './lines.js';

export const CISCO_TYPES = ['cisco-ios', 'cisco-catos', 'cisco-pix'] as const;
export type CiscoType = (typeof CISCO_TYPES)[number];

/**
 * What differs among the three operating systems; the drivers follow the same table. Which
 * account is which kind, and so which command changes it, is `ciscoAccountKind` (accounts.ts).
 */
const TRAITS: Record<
  CiscoType,
  {
    title: string;
    prompts: { username: string; password: string; userMode: string; enable: string; configuration?: string };
    /** `enable secret` exists (IOS only; PIX and CatOS have an enable password alone). */
    enableSecret: boolean;
    /** Line passwords (`line vty 0 15` / `password`) exist (IOS). */
    linePasswords: boolean;
    /** A login password apart from the lines exists: CatOS `set password`, PIX `passwd`. */
    loginPassword: boolean;
    /** A separate save step exists (CatOS writes its configuration as it changes). */
    save: boolean;
    /** Where the vendor documents an SSH login without the account's own name: the name typed. */
    sshFixedUsername?: string;
    /** Why SSH needs a user name, where it does. */
    sshNeedsUsername?: string;
    policy: PolicyInput;
    changedBy: string;
  }
> = {
  'cisco-ios': {
    title: 'Cisco IOS',
    prompts: { username: 'Username: ?$', password: 'Password: ?$', userMode: '> ?$', enable: '# ?$', configuration: '\\(config[^)]*\\)# ?$' },
    enableSecret: true,
    linePasswords: true,
    loginPassword: false,
    save: true,
    // Cisco's "Configuring Secure Shell" guide has SSH authenticate a user name (`login local` or
    // AAA on the vty lines); we found no IOS release documented to take the line password alone
    // over SSH, so a line-password login is Telnet (or console) only.
    sshNeedsUsername: 'IOS authenticates SSH logins by user name (`login local` or AAA on the vty lines); a line password alone is a Telnet login',
    // Classic IOS takes 1 to 25 characters for secrets and passwords; later releases take more,
    // but a resource cannot loosen a limit, so the limit is what every release takes. First
    // characters: `!` and `#` begin a comment; and a leading digit is refused for line passwords
    // (Cisco IOS Security Command Reference, `password` (line): "The first character cannot be a
    // number"; `enable secret` and `username … secret` read a leading 0, 5, 8 or 9 and a space as
    // the encryption type), so the type forbids a digit first for every IOS password.
    policy: { length: 25, maxLength: 25, allowUnicode: false, forbidden: DEVICE_CLI_FORBIDDEN, forbiddenFirst: `${COMMENT_FIRST}${DIGITS}` },
    changedBy:
      'in configuration mode, by kind of account: `username NAME secret` (or `password`, keeping the form, privilege and algorithm type it has), `enable secret`, `enable password`, `line …` / `password`; `copy running-config startup-config` when copyToStartup',
  },
  'cisco-catos': {
    title: 'Cisco CatOS',
    prompts: { username: 'Username: ?$', password: '[Pp]assword: ?$', userMode: '> ?$', enable: '\\(enable\\) ?$' },
    enableSecret: false,
    linePasswords: false,
    loginPassword: true,
    save: false,
    sshNeedsUsername: 'we found no CatOS documentation of an SSH login with the `set password` login password and no user name',
    // No documented maximum found; 16 is cautious. `#` begins a comment in CatOS configuration
    // files, `!` on IOS-style CLIs: both refused first (best guess for CatOS's prompts).
    policy: { length: 16, maxLength: 16, allowUnicode: false, forbidden: DEVICE_CLI_FORBIDDEN, forbiddenFirst: COMMENT_FIRST },
    changedBy: 'in privileged mode, by kind of account: `set localuser user NAME password`, `set password` (the login password), `set enablepass`, the old and new passwords typed at their prompts',
  },
  'cisco-pix': {
    title: 'Cisco PIX',
    // Telnet asks "PIX passwd: " for the passwd login password, and "Password: " after
    // "Username: " under `aaa authentication telnet console LOCAL`.
    prompts: { username: 'Username: ?$', password: '(?:PIX passwd|Password): ?$', userMode: '> ?$', enable: '# ?$', configuration: '\\(config[^)]*\\)# ?$' },
    enableSecret: false,
    linePasswords: false,
    loginPassword: true,
    save: true,
    // Cisco PIX Firewall and VPN Configuration Guide 6.2, "Using SSH for Remote System
    // Management": without AAA, "enter the username pix and the Telnet password".
    sshFixedUsername: 'pix',
    // PIX 6 takes at most 16 characters (ASA releases take more).
    policy: { length: 16, maxLength: 16, allowUnicode: false, forbidden: DEVICE_CLI_FORBIDDEN, forbiddenFirst: COMMENT_FIRST },
    changedBy: 'in configuration mode, by kind of account: `username NAME password … privilege N`, `enable password`, `passwd` (the Telnet and SSH login password); `write memory` when copyToStartup',
  },
};

const linePasswordSchema = z.object({ line: iosLineSchema, account: accountIdSchema }).strict();

export function ciscoSchema<T extends CiscoType>(type: T) {
  const t = TRAITS[type];
  const prompts = z
    .object({
      ...loginPromptFields(t.prompts),
      userMode: promptSchema.default(t.prompts.userMode),
      enable: promptSchema.default(t.prompts.enable),
      configuration: t.prompts.configuration === undefined ? promptSchema.optional() : promptSchema.default(t.prompts.configuration),
    })
    .strict();
  return z
    .object({
      ...resourceBase,
      ...cliTransport,
      ...deviceFields,
      type: z.literal(type),
      /**
       * The account that logs in: a local user when usernameRequired (the default); with
       * usernameRequired false, the line password (IOS: an account of `linePasswords` on a vty
       * line) or the login password (`loginPasswordAccount`, CatOS and PIX). Its user name stays
       * its name in the store; it is then not typed (PIX over SSH types `pix`).
       */
      loginAccount: accountIdSchema,
      /** Whether the device asks for an account name before the password ("account name required for login"). */
      usernameRequired: z.boolean().default(true),
      /** The account holding the enable secret (IOS: `enable secret`). */
      enableSecretAccount: accountIdSchema.optional(),
      /** The account holding the enable password (`enable password`; CatOS `set enablepass`). */
      enablePasswordAccount: accountIdSchema.optional(),
      /** The login password apart from the lines: CatOS `set password`, PIX `passwd`. */
      loginPasswordAccount: accountIdSchema.optional(),
      /** IOS line passwords (`line vty 0 15` / `password`), each line with the account holding it. */
      linePasswords: z.array(linePasswordSchema).max(16).default([]),
      prompts: prompts.prefault({}),
      /** Save the running configuration after the change, so it survives a reload. */
      copyToStartup: z.boolean().default(t.save),
    })
    .strict()
    .superRefine((r, ctx) => {
      checkDevice(r, ctx, { title: t.title, save: t.save, configurationMode: t.prompts.configuration !== undefined });
      if (r.enableSecretAccount && !t.enableSecret) {
        ctx.addIssue({ code: 'custom', path: ['enableSecretAccount'], message: `is not available on ${t.title}, which has an enable password only` });
      }
      if (r.enableSecretAccount && r.enablePasswordAccount && t.enableSecret) {
        ctx.addIssue({
          code: 'custom',
          path: ['enablePasswordAccount'],
          message:
            'cannot be named with enableSecretAccount: IOS uses the enable secret when both are set, and the enable password is then unused (Cisco IOS Security Command Reference, `enable password`); name one of them',
        });
      }
      if (r.loginPasswordAccount && !t.loginPassword) {
        ctx.addIssue({ code: 'custom', path: ['loginPasswordAccount'], message: `is not available on ${t.title}: its login without a user name is a line password (linePasswords)` });
      }
      if (r.linePasswords.length > 0 && !t.linePasswords) {
        ctx.addIssue({ code: 'custom', path: ['linePasswords'], message: `are IOS line passwords; ${t.title} has a login password instead (loginPasswordAccount)` });
      }
      r.linePasswords.forEach((l, i) => {
        const j = r.linePasswords.findIndex((o, k) => k < i && linesOverlap(o.line, l.line));
        if (j >= 0) ctx.addIssue({ code: 'custom', path: ['linePasswords', i, 'line'], message: `overlaps linePasswords.${j}.line (${r.linePasswords[j]!.line}): a line has one password` });
      });
      // One account, one role; the line role may span several lines.
      const lineAccounts = [...new Set(r.linePasswords.map((l) => l.account))];
      checkDistinctRoles(
        [
          { field: 'enableSecretAccount', path: ['enableSecretAccount'], accountId: r.enableSecretAccount },
          { field: 'enablePasswordAccount', path: ['enablePasswordAccount'], accountId: r.enablePasswordAccount },
          { field: 'loginPasswordAccount', path: ['loginPasswordAccount'], accountId: r.loginPasswordAccount },
          ...lineAccounts.map((a) => ({ field: 'linePasswords', path: ['linePasswords', r.linePasswords.findIndex((l) => l.account === a), 'account'], accountId: a })),
        ],
        ctx,
      );
      // The login: an enable password never logs in; which kind may depends on usernameRequired.
      for (const field of ['enableSecretAccount', 'enablePasswordAccount'] as const) {
        if (r[field] === r.loginAccount) ctx.addIssue({ code: 'custom', path: ['loginAccount'], message: `names the same account as ${field}: an enable password is not a login` });
      }
      const loginIsLine = r.linePasswords.some((l) => l.account === r.loginAccount);
      const loginIsVty = r.linePasswords.some((l) => l.account === r.loginAccount && l.line.startsWith('vty'));
      const loginIsLoginPassword = r.loginPasswordAccount === r.loginAccount;
      if (r.usernameRequired && (loginIsLine || loginIsLoginPassword)) {
        ctx.addIssue({
          code: 'custom',
          path: ['loginAccount'],
          message: `names the ${loginIsLine ? 'line password' : 'login password'} account, which logs in without a user name: set usernameRequired to false, or log in as a local user`,
        });
      }
      if (!r.usernameRequired) {
        if (t.linePasswords && !loginIsVty) {
          ctx.addIssue({ code: 'custom', path: ['loginAccount'], message: 'must hold a vty line password (linePasswords) when usernameRequired is false: Telnet and SSH sessions land on the vty lines' });
        }
        if (t.loginPassword && !loginIsLoginPassword) {
          ctx.addIssue({ code: 'custom', path: ['loginAccount'], message: 'must be the loginPasswordAccount when usernameRequired is false: the login is then that password alone' });
        }
        if (r.protocol === 'ssh' && t.sshFixedUsername === undefined) {
          ctx.addIssue({ code: 'custom', path: ['usernameRequired'], message: `must be true with protocol ssh: ${t.sshNeedsUsername}` });
        }
      }
      if (r.copyToStartup && !t.save) ctx.addIssue({ code: 'custom', path: ['copyToStartup'], message: `must be false on ${t.title}, which saves its configuration as it changes` });
      if (r.prompts.configuration !== undefined && t.prompts.configuration === undefined) {
        ctx.addIssue({ code: 'custom', path: ['prompts', 'configuration'], message: `is not used on ${t.title}, which has no configuration mode` });
      }
    })
    .transform((r) => ({ ...r, port: cliPort(r) }));
}

export type CiscoResource = z.output<ReturnType<typeof ciscoSchema>>;

function references(r: CiscoResource): AccountReference[] {
  const refs: AccountReference[] = [{ role: 'login', field: 'loginAccount', accountId: r.loginAccount, fromResourceTypes: [] }];
  if (r.enableSecretAccount) refs.push({ role: 'enableSecret', field: 'enableSecretAccount', accountId: r.enableSecretAccount, fromResourceTypes: [] });
  if (r.enablePasswordAccount) refs.push({ role: 'enablePassword', field: 'enablePasswordAccount', accountId: r.enablePasswordAccount, fromResourceTypes: [] });
  return refs;
}

/** The types that reset, each through its driver (loaded on first use, with the SSH code). */
const IMPLEMENTATION: Record<CiscoType, Implementation> = {
  'cisco-ios': {
    family: 'device',
    adapter: () => import('./ios/adapter.js').then((m) => m.createIosAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: "Cisco IOS CLI simulator (test/simulators/device/cisco-ios.ts) written from Cisco's IOS Security and Configuration Fundamentals command references: SSH and Telnet logins (local users, vty line password), enable, `username`/`enable`/line passwords with type 5/8/9 secrets, `show running-config | include`, paging, `copy running-config startup-config`; no real IOS device, no AAA/TACACS+, no privilege levels between 1 and 15",
      using: ['device:cisco-ios'],
    },
  },
  'cisco-catos': {
    family: 'device',
    adapter: () => import('./catos/adapter.js').then((m) => m.createCatosAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: 'a CatOS 8.4 supervisor CLI simulator (test/simulators/device/cisco-catos.ts) over SSH and Telnet, written from the Catalyst 6500 Series Software Command Reference (CatOS): `set localuser`, `set password`, `set enablepass`, `enable`, `set length`, `show config`; no real switch, and no TACACS+/RADIUS logins',
      using: ['device:cisco-catos'],
    },
  },
  'cisco-pix': {
    family: 'device',
    adapter: () => import('./pix/adapter.js').then((m) => m.createPixAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: 'a PIX 6.3 firewall CLI simulator (test/simulators/device/cisco-pix.ts) over SSH and Telnet, written from the Cisco PIX Firewall Command Reference 6.3 and its Configuration Guide: `username`, `enable password`, `passwd`, `aaa authentication ... console LOCAL`, `write memory`; no real firewall, no ASA releases, no AAA server logins',
      using: ['device:cisco-pix'],
    },
  },
};

export function ciscoDefinition<T extends CiscoType>(type: T) {
  const t = TRAITS[type];
  return defineType({
    type,
    title: t.title,
    schema: ciscoSchema(type),
    defaultPort: 22,
    ports: (r) => tcp(r.port),
    defaultPorts: tcp(22, 23),
    policy: t.policy,
    // The account's name in the store; typed only for a local user (usernameRequired), and
    // for the enable, line and login passwords never typed at all.
    username: deviceUsername(64),
    references,
    adminField: 'loginAccount',
    loginField: 'loginAccount',
    onPremises: true,
    verification: 'login',
    implementation: IMPLEMENTATION[type],
    changedBy: t.changedBy,
    verifiedBy: 'a fresh SSH or Telnet login as the account (a local user by its name, the login password alone), or the admin login followed by `enable` for an enable secret or password',
  });
}
