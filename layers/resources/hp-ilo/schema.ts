import { z } from 'zod';
import { accountIdSchema, cliTransport, resourceBase } from '../common.js';
import { defineType, tcp } from '../definition.js';
import { cliPort, DEVICE_CLI_FORBIDDEN, deviceUsername, promptSchema } from '../network-device/fields.js';

export const hpIloSchema = z
  .object({
    ...resourceBase,
    ...cliTransport,
    type: z.literal('hp-ilo'),
    /** The SMASH CLP prompt. */
    prompt: promptSchema.default('</>hpiLO-> ?$'),
    /** An account with the "Administer User Accounts" privilege. */
    adminAccount: accountIdSchema,
  })
  .strict()
  .transform((r) => ({ ...r, port: cliPort(r) }));

export type HpIloResource = z.output<typeof hpIloSchema>;

export const hpIloDefinition = defineType({
  type: 'hp-ilo',
  title: 'HPE iLO',
  schema: hpIloSchema,
  defaultPort: 22,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(22, 23),
  // iLO takes at most 39 characters. The password is a CLP argument (`password=...`), where
  // quotes, backslash, "=" and whitespace are syntax, so those are refused too.
  policy: { length: 24, maxLength: 39, allowUnicode: false, forbidden: `${DEVICE_CLI_FORBIDDEN}"'\\=` },
  // iLO login names take up to 39 characters; they appear in a CLP target path, so only inert ones.
  username: deviceUsername(39),
  references: (r) => [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }],
  onPremises: true,
  verification: 'login',
  implementation: 'not yet',
  changedBy: '`set /map1/accounts1/NAME password=...` in the SMASH CLP as the admin',
  verifiedBy: 'a fresh SSH or Telnet login as the account',
});
