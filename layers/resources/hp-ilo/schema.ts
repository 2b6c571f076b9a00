import { z } from 'zod';
import { accountIdSchema, cliTransport, resourceBase } from '../common.js';
import { defineType, tcp } from '../definition.js';
import { checkDevice, deviceFields, loginPromptFields } from '../network-device/device.js';
import { cliPort, deviceUsername, promptSchema } from '../network-device/fields.js';

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
  // iLO takes 8 (its default Minimum Password Length) to 39 characters, "any printable
  // characters" (iLO scripting guide, PASSWORD). The password is a CLP property value
  // (`password=...`), double-quoted when it holds a space (DSP0214); the CLP has no escape for a
  // double quote inside a value, so `"` is the one character it cannot carry.
  policy: { length: 24, minLength: 8, maxLength: 39, allowUnicode: false, forbidden: '"' },
  // iLO login names take up to 39 characters; they appear in a CLP target path, so only inert ones.
  username: deviceUsername(39),
  references: (r) => (r.adminAccount ? [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }] : []),
  onPremises: true,
  verification: 'login',
  implementation: {
    family: 'device',
    adapter: () => import('./adapter.js').then((m) => m.createIloAdapter),
    testedAgainst: {
      kind: 'simulator',
      what:
        "the iLO SMASH CLP simulator (test/simulators/device/hp-ilo.ts), written from HP's iLO 3/4 Scripting and Command Line Guide (User commands) and DMTF DSP0214 (status, status_tag, error_tag): SSH and Telnet logins, `set /map1/accounts1/NAME password=...` with CLP quoting, the privilege rule and the length rules; not covered: iLO's web, RIBCL and Redfish interfaces, directory (LDAP) accounts, and the exact Telnet login wording",
      using: ['device:hp-ilo'],
    },
  },
  changedBy:
    'SSH or Telnet; `set /map1/accounts1/NAME password=...` in the SMASH CLP, as the account itself or as adminAccount (Administer User Accounts); the password is typed on the CLP command line (iLO documents no prompt for it), which iLO echoes: rpr redacts the echo',
  verifiedBy: 'a fresh SSH or Telnet login as the account',
});
