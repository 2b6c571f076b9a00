import { z } from 'zod';
import { accountIdSchema, cliTransport, resourceBase } from '../common.js';
import { defineType, tcp } from '../definition.js';
import { cliPort, DEVICE_CLI_FORBIDDEN, deviceUsername, promptSchema } from '../network-device/fields.js';

export const hpProcurvePromptsSchema = z
  .object({
    /** Manager (privileged) mode, e.g. "ProCurve Switch 2824# ". */
    manager: promptSchema.default('# ?$'),
    configuration: promptSchema.default('\\(config\\)# ?$'),
  })
  .strict();

export const hpProcurveSchema = z
  .object({
    ...resourceBase,
    ...cliTransport,
    type: z.literal('hp-procurve'),
    /** The manager account: it logs in and sets the manager and operator passwords. */
    managerAccount: accountIdSchema,
    /** Whether the switch asks for an account name before the password (local user names set), or only a password. */
    usernameRequired: z.boolean().default(true),
    prompts: hpProcurvePromptsSchema.prefault({}),
    /** `write memory` after the change, so it survives a reboot. */
    copyToStartup: z.boolean().default(true),
  })
  .strict()
  .transform((r) => ({ ...r, port: cliPort(r) }));

export type HpProcurveResource = z.output<typeof hpProcurveSchema>;

export const hpProcurveDefinition = defineType({
  type: 'hp-procurve',
  title: 'HP ProCurve / Aruba switch',
  schema: hpProcurveSchema,
  defaultPort: 22,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(22, 23),
  // Older ProCurve firmware takes 16 characters (K.15 and ArubaOS-Switch take more, and a
  // resource cannot loosen the limit, so the limit is the lowest any release in service takes).
  policy: { length: 16, maxLength: 16, allowUnicode: false, forbidden: DEVICE_CLI_FORBIDDEN },
  username: deviceUsername(64),
  references: (r) => [{ role: 'manager', field: 'managerAccount', accountId: r.managerAccount, fromResourceTypes: [] }],
  onPremises: true,
  verification: 'login',
  implementation: 'not yet',
  changedBy: '`password manager|operator user-name NAME` in configuration mode, the new password typed at its prompts; `write memory` when copyToStartup',
  verifiedBy: 'a fresh SSH or Telnet login as the account',
});
