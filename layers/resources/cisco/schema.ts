import { z } from 'zod';
import { accountIdSchema, cliTransport, resourceBase } from '../common.js';
import { defineType, type AccountReference, tcp } from '../definition.js';
import type { PolicyInput } from '../../engine/policy.js';
import { cliPort, DEVICE_CLI_FORBIDDEN, deviceUsername, promptSchema } from '../network-device/fields.js';

export const CISCO_TYPES = ['cisco-ios', 'cisco-catos', 'cisco-pix'] as const;
export type CiscoType = (typeof CISCO_TYPES)[number];

/** What differs among the three operating systems; the adapter's driver follows the same table. */
const TRAITS: Record<
  CiscoType,
  {
    title: string;
    prompts: { userMode: string; enable: string; configuration?: string };
    /** `enable secret` exists (IOS only; PIX and CatOS have an enable password alone). */
    enableSecret: boolean;
    /** A separate save step exists (CatOS writes its configuration as it changes). */
    save: boolean;
    policy: PolicyInput;
    changedBy: string;
  }
> = {
  'cisco-ios': {
    title: 'Cisco IOS',
    prompts: { userMode: '> ?$', enable: '# ?$', configuration: '\\(config[^)]*\\)# ?$' },
    enableSecret: true,
    save: true,
    // Classic IOS takes 1 to 25 characters for secrets and passwords; later releases take more,
    // but a resource cannot loosen a limit, so the limit is what every release takes.
    policy: { length: 25, maxLength: 25, allowUnicode: false, forbidden: DEVICE_CLI_FORBIDDEN },
    changedBy: '`username NAME secret` / `enable secret` / `enable password` in configuration mode; `copy running-config startup-config` when copyToStartup',
  },
  'cisco-catos': {
    title: 'Cisco CatOS',
    prompts: { userMode: '> ?$', enable: '\\(enable\\) ?$' },
    enableSecret: false,
    save: false,
    // No documented maximum found; 16 is cautious.
    policy: { length: 16, maxLength: 16, allowUnicode: false, forbidden: DEVICE_CLI_FORBIDDEN },
    changedBy: '`set localuser user NAME password`, or `set password` / `set enablepass` with the passwords typed at their prompts, in enable mode',
  },
  'cisco-pix': {
    title: 'Cisco PIX',
    prompts: { userMode: '> ?$', enable: '# ?$', configuration: '\\(config[^)]*\\)# ?$' },
    enableSecret: false,
    save: true,
    // PIX 6 takes at most 16 characters (ASA releases take more).
    policy: { length: 16, maxLength: 16, allowUnicode: false, forbidden: DEVICE_CLI_FORBIDDEN },
    changedBy: '`username NAME password` / `enable password` in configuration mode; `write memory` when copyToStartup',
  },
};

export function ciscoSchema<T extends CiscoType>(type: T) {
  const t = TRAITS[type];
  const prompts = z
    .object({
      userMode: promptSchema.default(t.prompts.userMode),
      enable: promptSchema.default(t.prompts.enable),
      configuration: t.prompts.configuration === undefined ? promptSchema.optional() : promptSchema.default(t.prompts.configuration),
    })
    .strict();
  return z
    .object({
      ...resourceBase,
      ...cliTransport,
      type: z.literal(type),
      /** The account that logs in (with a user name, or the line password alone when usernameRequired is false). */
      loginAccount: accountIdSchema,
      /** Whether the device asks for an account name before the password. */
      usernameRequired: z.boolean().default(true),
      /** The account holding the enable secret (IOS). */
      enableSecretAccount: accountIdSchema.optional(),
      /** The account holding the enable password. */
      enablePasswordAccount: accountIdSchema.optional(),
      prompts: prompts.prefault({}),
      /** Save the running configuration after the change, so it survives a reload. */
      copyToStartup: z.boolean().default(t.save),
    })
    .strict()
    .superRefine((r, ctx) => {
      if (r.enableSecretAccount && !t.enableSecret) {
        ctx.addIssue({ code: 'custom', path: ['enableSecretAccount'], message: `is not available on ${t.title}, which has an enable password only` });
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
    username: deviceUsername(64),
    references,
    onPremises: true,
    verification: 'login',
    implementation: 'not yet',
    changedBy: t.changedBy,
    verifiedBy: 'a fresh SSH or Telnet login as the account (followed by `enable` for an enable secret or password)',
  });
}
