import { z } from 'zod';
import { accountIdSchema, cliTransport, resourceBase } from '../common.js';
import { defineType, tcp } from '../definition.js';
import { cliPort, DEVICE_CLI_FORBIDDEN, deviceUsername, promptSchema } from '../network-device/fields.js';

export const juniperNetscreenSchema = z
  .object({
    ...resourceBase,
    ...cliTransport,
    type: z.literal('juniper-netscreen'),
    /** The root admin or an admin with "all" privileges. */
    adminAccount: accountIdSchema,
    /** Whether the device asks for an account name before the password. */
    usernameRequired: z.boolean().default(true),
    /** The ScreenOS prompt, e.g. "ssg5-> ". */
    adminPrompt: promptSchema.default('-> ?$'),
    /** `save` after the change, so it survives a reboot. */
    copyToStartup: z.boolean().default(true),
  })
  .strict()
  .transform((r) => ({ ...r, port: cliPort(r) }));

export type JuniperNetscreenResource = z.output<typeof juniperNetscreenSchema>;

export const juniperNetscreenDefinition = defineType({
  type: 'juniper-netscreen',
  title: 'Juniper NetScreen (ScreenOS)',
  schema: juniperNetscreenSchema,
  defaultPort: 22,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(22, 23),
  // ScreenOS admin passwords take at most 31 characters; the password is a command argument in
  // double quotes, so `"` is refused along with `?` and whitespace.
  policy: { length: 24, maxLength: 31, allowUnicode: false, forbidden: `${DEVICE_CLI_FORBIDDEN}"` },
  username: deviceUsername(31),
  references: (r) => [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }],
  onPremises: true,
  verification: 'login',
  implementation: 'not yet',
  changedBy: '`set admin user NAME password "..."` (`set admin password` for the root admin); `save` when copyToStartup',
  verifiedBy: 'a fresh SSH or Telnet login as the account',
});
