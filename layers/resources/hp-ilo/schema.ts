import { z } from 'zod';
import { accountIdSchema, cliTransport, resourceBase } from '../common.js';
import { defineType, tcp } from '../definition.js';
import { checkDevice, deviceFields, loginPromptFields } from '../network-device/device.js';
import { cliPort, DEVICE_CLI_FORBIDDEN, deviceUsername, promptSchema } from '../network-device/fields.js';

/**
 * iLO's SMASH CLP (HP Integrated Lights-Out Scripting and Command Line Guide, "User commands"):
 * `set /map1/accounts1/NAME password=…` changes an account's password. Each account may change
 * its own; `adminAccount` (with the "Administer User Accounts" privilege) changes the others.
 */
export const hpIloSchema = z
  .object({
    ...resourceBase,
    ...cliTransport,
    ...deviceFields,
    type: z.literal('hp-ilo'),
    /** The Telnet login's prompts (iLO's wording is a best guess) and the SMASH CLP prompt. */
    prompts: z.object(loginPromptFields({ username: '(?:[Ll]ogin(?: [Nn]ame)?|[Uu]ser ?[Nn]ame): ?$', password: '[Pp]assword: ?$' })).strict().prefault({}),
    prompt: promptSchema.default('</>hpiLO-> ?$'),
    /** An account with the "Administer User Accounts" privilege, which resets the others; without it each account changes its own. */
    adminAccount: accountIdSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => checkDevice(r, ctx, { title: 'HPE iLO', save: false, configurationMode: false }))
  .transform((r) => ({ ...r, port: cliPort(r) }));

export type HpIloResource = z.output<typeof hpIloSchema>;

/** `self`: the account logs in and changes its own password; `admin`: the adminAccount changes it. */
export type IloChangeBy = 'self' | 'admin';

export function iloChangeBy(resource: HpIloResource, accountId: string): IloChangeBy {
  return resource.adminAccount !== undefined && resource.adminAccount !== accountId ? 'admin' : 'self';
}

export const hpIloDefinition = defineType({
  type: 'hp-ilo',
  title: 'HPE iLO',
  schema: hpIloSchema,
  defaultPort: 22,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(22, 23),
  // iLO takes at most 39 characters. The password is a CLP argument (`password=...`), where
  // quotes, backslash, "=" and whitespace are syntax the CLP cannot carry inside a value, so
  // those are refused too.
  policy: { length: 24, maxLength: 39, allowUnicode: false, forbidden: `${DEVICE_CLI_FORBIDDEN}"'\\=` },
  // iLO login names take up to 39 characters; they appear in a CLP target path, so only inert ones.
  username: deviceUsername(39),
  references: (r) => (r.adminAccount ? [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }] : []),
  onPremises: true,
  verification: 'login',
  implementation: 'not yet',
  changedBy: '`set /map1/accounts1/NAME password=...` in the SMASH CLP, as the account itself or as adminAccount (Administer User Accounts)',
  verifiedBy: 'a fresh SSH or Telnet login as the account',
});
